//! `kaibiao share check`: a custodian unseals their share of a tender's opening key with
//! their own key file and checks it against the published commitments — before the
//! opening, so a bad share is found while it can still be fixed.

use std::path::Path;

use anyhow::{bail, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use reqwest::Method;
use serde_json::Value;

use super::client::Client;
use crate::crypto::{hpke, vss};
use crate::pki::keyfile::DeviceKeys;
use crate::tender::opening_key::{share_aad, SHARE_INFO};

pub async fn check(server: &str, user: &str, key_file: &Path, tender: &str) -> anyhow::Result<()> {
    let file = std::fs::read_to_string(key_file)
        .with_context(|| format!("reading {}", key_file.display()))?;
    let passphrase = super::secret(
        "KAIBIAO_KEY_PASSPHRASE",
        "密钥文件口令 / key file passphrase: ",
    )?;
    let (_, keys) = DeviceKeys::from_file(&file, &passphrase)?;
    let password = super::secret(
        "KAIBIAO_PASSWORD",
        &format!("{user} 的登录密码 / password: "),
    )?;
    let client = Client::login(server, user, &password, "kaibiao share check").await?;
    let mine: Value = client
        .call(
            Method::GET,
            &format!("/api/tenders/{tender}/my-share"),
            None,
        )
        .await?;
    let announced: Value = client
        .call(Method::GET, &format!("/api/announcements/{tender}"), None)
        .await?;
    if mine["opening_key"] != announced["opening_key"] {
        bail!("the commitments given to you differ from the announced ones");
    }
    let index = mine["index"].as_u64().context("index")? as u32;
    let sealed: hpke::Sealed = serde_json::from_value(mine["sealed"].clone())?;
    let value = hpke::open(
        &keys.encryption,
        SHARE_INFO,
        &share_aad(tender, index),
        &sealed,
    )
    .map_err(|e| anyhow::anyhow!("your key file does not open this share ({})", e.code()))?;
    let share = vss::Share {
        index,
        value: value
            .try_into()
            .map_err(|_| anyhow::anyhow!("a share is 32 bytes"))?,
    };
    let commitments = mine["opening_key"]["commitments"]
        .as_array()
        .context("commitments")?
        .iter()
        .map(|c| B64.decode(c.as_str().unwrap_or_default()))
        .collect::<Result<Vec<_>, _>>()?;
    if !vss::verify_share(&share, &commitments) {
        bail!("share {index} does NOT match the published commitments: tell the agency and finance now");
    }
    println!(
        "OK: 第 {index} 份密钥分片与公告的承诺一致 / share {index} matches the announced commitments (threshold {} of {})",
        mine["opening_key"]["threshold"],
        announced["opening_key"]["commitments"].as_array().map_or(0, Vec::len).max(1)
    );
    Ok(())
}
