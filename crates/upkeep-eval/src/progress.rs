//! A one-line progress bar on stderr for long evaluation runs; silent when
//! stderr is not a terminal, so logs and CI output stay clean.

use std::io::{IsTerminal, Write};

pub struct Progress {
    label: &'static str,
    total: usize,
    done: usize,
    shown: bool,
}

impl Progress {
    pub fn new(label: &'static str, total: usize) -> Self {
        Progress { label, total, done: 0, shown: std::io::stderr().is_terminal() }
    }

    /// Marks one more item done, naming it.
    pub fn step(&mut self, item: &str) {
        self.step_to(self.done + 1, item);
    }

    /// Marks `done` items done (for runs that report every so often).
    pub fn step_to(&mut self, done: usize, item: &str) {
        self.done = done.min(self.total);
        if !self.shown {
            return;
        }
        const WIDTH: usize = 30;
        let filled = WIDTH * self.done / self.total.max(1);
        let bar = format!("{}{}", "#".repeat(filled), ".".repeat(WIDTH - filled));
        let item: String = item.chars().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
        let _ = write!(std::io::stderr(), "\r{} [{bar}] {}/{} {item:<40}", self.label, self.done, self.total);
        if self.done == self.total {
            let _ = writeln!(std::io::stderr());
        }
    }
}
