//! The demo's identities: a token for an admin, a dispatcher, one engineer
//! and one customer of the generated fleet, printed and written to
//! `tokens.env` in the data directory so the README's commands and the
//! console can sign in. The demo's database is new at each start, and so
//! are its tokens.

use super::DemoError;
use crate::access::{Principal, Role, TokenStore};
use crate::fleet::Fleet;
use crate::model::now_ms;
use std::path::Path;

/// Writes `text` readable by its owner only: the file holds an admin token.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

/// Issues the tokens, writes `dir/tokens.env`, and returns the lines to print.
pub async fn issue(store: &TokenStore, fleet: &Fleet, dir: &Path) -> Result<Vec<String>, DemoError> {
    let engineer = fleet.engineers().first().map(|e| (e.name.clone(), e.id.clone()));
    let customer = fleet.assets().first().map(|a| a.customer.clone());
    let mut who = vec![
        Principal::new("demo admin", Role::Admin, None, None)?,
        Principal::new("demo dispatcher", Role::Dispatcher, None, None)?,
    ];
    if let Some((name, id)) = engineer {
        who.push(Principal::new(&name, Role::Engineer, Some(id), None)?);
    }
    if let Some(c) = customer {
        who.push(Principal::new(&c, Role::Customer, None, Some(c.clone()))?);
    }
    let (mut env, mut shown) = (String::new(), Vec::new());
    for p in who {
        let token = store.issue(&p, now_ms()).await?.token;
        let var = format!("UPKEEP_{}_TOKEN", p.role.as_str().to_uppercase());
        env.push_str(&format!("export {var}={token}  # {}\n", p.name));
        shown.push(format!("  {:<11} {:<24} {token}", p.role.as_str(), p.name));
    }
    let path = dir.join("tokens.env");
    write_private(&path, &env).map_err(|source| DemoError::Dir { path, source })?;
    Ok(shown)
}
