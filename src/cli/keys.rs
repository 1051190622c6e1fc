//! `kaibiao keys init`: make a signing and an encryption key on this machine, register
//! their public halves (the platform CA certifies them), keep the private halves in a
//! passphrase-protected key file, and pin the platform's CA certificate beside it.

use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value};

use super::client::Client;
use crate::pki::keyfile::DeviceKeys;
use crate::pki::types::KeyPurpose;

pub async fn init(server: &str, user: &str, key_file: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        !key_file.exists(),
        "{} already exists; choose another path (a key file is never overwritten)",
        key_file.display()
    );
    let password = super::secret(
        "KAIBIAO_PASSWORD",
        &format!("{user} 的登录密码 / password: "),
    )?;
    let client = Client::login(server, user, &password, "kaibiao keys init").await?;
    let passphrase = super::secret(
        "KAIBIAO_KEY_PASSPHRASE",
        "密钥文件口令 / key file passphrase: ",
    )?;
    anyhow::ensure!(
        passphrase.chars().count() >= 8,
        "the passphrase needs at least 8 characters"
    );
    let me: Value = client.call(Method::GET, "/api/me", None).await?;
    let user_id = me["user"]["id"].as_str().unwrap_or_default().to_string();
    let keys = DeviceKeys::generate();
    // The file first: a registered key whose private half was lost would be useless.
    crate::tls::write_private(key_file, keys.to_file(&user_id, &passphrase).as_bytes())?;
    for purpose in [KeyPurpose::Signing, KeyPurpose::Encryption] {
        let (public_key, proof) = keys.registration(&user_id, purpose);
        let k: Value = client
            .call(
                Method::POST,
                "/api/keys",
                Some(json!({"purpose": purpose, "public_key": public_key, "proof": proof})),
            )
            .await?;
        println!(
            "已登记 / registered {} key {}",
            purpose.as_str(),
            k["key_id"].as_str().unwrap_or_default()
        );
    }
    let certs: Value = client
        .call(Method::GET, "/api/pki/certificates", None)
        .await?;
    std::fs::write(
        ca_path(key_file),
        certs["ca_pem"].as_str().unwrap_or_default(),
    )?;
    println!(
        "密钥文件 / key file: {} (CA pinned in {})",
        key_file.display(),
        ca_path(key_file).display()
    );
    Ok(())
}

/// Where the platform CA certificate seen at `keys init` is kept.
pub fn ca_path(key_file: &Path) -> std::path::PathBuf {
    let mut p = key_file.as_os_str().to_owned();
    p.push(".ca.pem");
    p.into()
}

/// Opens a key file with its passphrase (KAIBIAO_KEY_PASSPHRASE, or asked for).
pub fn open_key_file(key_file: &Path) -> anyhow::Result<crate::pki::keyfile::DeviceKeys> {
    use anyhow::Context;
    let file = std::fs::read_to_string(key_file)
        .with_context(|| format!("reading {}", key_file.display()))?;
    let passphrase = super::secret(
        "KAIBIAO_KEY_PASSPHRASE",
        "密钥文件口令 / key file passphrase: ",
    )?;
    Ok(crate::pki::keyfile::DeviceKeys::from_file(&file, &passphrase)?.1)
}
