//! PNG line plots for the evaluation report.
