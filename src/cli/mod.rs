//! The command-line tools of suppliers and custodians (the 投标文件制作工具 of Chinese
//! practice): make device keys, seal a bid on this machine, upload it with resume, check
//! the receipt, see its status, withdraw it. They talk to the server over its HTTP API.

pub mod bid;
pub mod client;
pub mod keys;
pub mod share;

/// A secret from an environment variable, or asked for on the terminal without echo.
pub fn secret(env: &str, prompt: &str) -> anyhow::Result<String> {
    match std::env::var(env) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ if !std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
            anyhow::bail!("没有终端可以询问,请设置 {env} / no terminal to ask on: set {env}")
        }
        _ => Ok(rpassword::prompt_password(prompt)?),
    }
}
