//! The browser's cryptography (web/js/crypto/) in real Chromium, held to the Rust side
//! (src/crypto/): the RFC 9180 vectors, the KB1 vectors plus mutated containers opened by
//! both implementations, a bid sealed in the page and opened by Rust, and device keys made,
//! kept and registered by the page. The modules are imported by URL from a page of the
//! running app, so they run under its real Content-Security-Policy.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use fantoccini::Client;
use kaibiao::bid::package;
use kaibiao::crypto::kb1::{self, Expect, SealParams};
use kaibiao::crypto::sha256_hex;
use kaibiao::crypto::{hpke, keys, CryptoError};
use serde_json::{json, Value};

use crate::browser::{app_page, login, wait_css};
use crate::common::TestApp;

const HPKE_VECTORS: &str = include_str!("../vectors/hpke-rfc9180.json");
const KB1_VECTORS: &str = include_str!("../vectors/kb1.json");

/// Runs `body`, the body of an async function that sees `base` (the URL of /js/crypto/)
/// and `input`, and returns what it returns. A JS exception fails the test, and so does
/// console noise: console.error/warn calls and unhandled promise rejections from the
/// modules (those of the injected script itself are not reported by Chromium).
async fn run_js(c: &Client, app: &TestApp, body: &str, input: Value) -> Value {
    let script = format!(
        r##"const done = arguments[arguments.length - 1];
const base = arguments[0];
const input = arguments[1];
if (!window.__kbNoise) {{
  const noise = (window.__kbNoise = []);
  addEventListener('unhandledrejection', (e) => noise.push('unhandled rejection: ' + String(e.reason)));
  for (const level of ['error', 'warn']) {{
    const original = console[level];
    console[level] = (...args) => {{
      noise.push(level + ': ' + args.map(String).join(' '));
      original.apply(console, args);
    }};
  }}
}}
(async () => {{
{body}
}})().then(
  // Unhandled rejections are reported in a later task: give them time to show.
  (ok) => setTimeout(() => done({{ ok, noise: window.__kbNoise }}), 100),
  (e) => done({{ error: String((e && e.stack) || e) }}),
);"##
    );
    let v = c
        .execute_async(&script, vec![json!(app.url("/js/crypto/")), input])
        .await
        .expect("the script runs");
    if let Some(err) = v.get("error") {
        panic!("in the browser: {}", err.as_str().unwrap_or_default());
    }
    assert_eq!(v["noise"], json!([]), "console noise in the page");
    v["ok"].clone()
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn secret(hex_scalar: &str) -> p256::SecretKey {
    p256::SecretKey::from_slice(&unhex(hex_scalar)).unwrap()
}

// ------------------------------------------------------------------ RFC 9180 --

const HPKE_JS: &str = r##"
const hpke = await import(base + 'hpke.js');
const B = await import(base + 'bytes.js');
const h = B.fromHex;
const x = B.toHex;
const secrets = (s) => ({
  shared_secret: x(s.sharedSecret),
  key_schedule_context: x(s.keyScheduleContext),
  secret: x(s.secret),
  key: x(s.key),
  base_nonce: x(s.baseNonce),
  exporter_secret: x(s.exporterSecret),
});
const out = [];
for (const v of input.vectors) {
  const r = await hpke.deriveKeyPair(h(v.ikmR));
  const e = await hpke.deriveKeyPair(h(v.ikmE));
  const sender = await hpke.setupBaseS(h(v.pkRm), h(v.info), { ikmE: h(v.ikmE), exposeSecrets: true });
  // The recipient's key as a device key would be: non-extractable.
  const skR = await hpke.importPrivateKey(h(v.skRm), { extractable: false });
  const receiver = await hpke.setupBaseR(h(v.enc), skR, h(v.info), { exposeSecrets: true });
  const cts = [];
  const pts = [];
  for (const enc of v.encryptions) {
    cts.push(x(await sender.context.seal(h(enc.aad), h(enc.pt))));
    pts.push(x(await receiver.open(h(enc.aad), h(enc.ct))));
  }
  const exports_s = [];
  const exports_r = [];
  for (const ex of v.exports) {
    exports_s.push(x(await sender.context.export(h(ex.exporter_context), ex.L)));
    exports_r.push(x(await receiver.export(h(ex.exporter_context), ex.L)));
  }
  // Single shot: sequence number 0.
  const first = v.encryptions[0];
  const one = await hpke.seal(h(v.pkRm), h(v.info), h(first.aad), h(first.pt), { ikmE: h(v.ikmE) });
  const opened = await hpke.open(skR, h(v.info), h(first.aad), { enc: h(v.enc), ct: h(first.ct) });
  const fresh = await hpke.seal(h(v.pkRm), h(v.info), h(first.aad), h(first.pt));
  const refused = async (aad, info, ct) => {
    try {
      await hpke.open(skR, h(info), h(aad), { enc: h(v.enc), ct: h(ct) });
      return 'opened';
    } catch (err) {
      return err.code;
    }
  };
  out.push({
    skRm: x(r.secret), pkRm: x(r.publicKey), skEm: x(e.secret), pkEm: x(e.publicKey),
    enc: x(sender.enc),
    sender: secrets(sender.context.secrets),
    receiver: secrets(receiver.secrets),
    cts, pts, exports_s, exports_r,
    one_shot: { enc: x(one.enc), ct: x(one.ct) },
    opened: x(opened),
    fresh: { enc: x(fresh.enc), ct: x(fresh.ct) },
    wrong_aad: await refused('00', v.info, first.ct),
    wrong_info: await refused(first.aad, '00', first.ct),
    flipped: await refused(first.aad, v.info, first.ct.slice(0, -2) + (first.ct.endsWith('00') ? '01' : '00')),
    extractable: skR.privateKey.extractable,
  });
}
return out;
"##;

#[tokio::test]
async fn hpke_rfc9180_vectors_in_the_browser() {
    let Some((driver, app)) = app_page("/login.html", 180).await else {
        return;
    };
    let c = &driver.client;
    let file: Value = serde_json::from_str(HPKE_VECTORS).unwrap();
    let vectors = file["vectors"].as_array().unwrap();
    assert!(!vectors.is_empty());
    let got = run_js(c, &app, HPKE_JS, json!({ "vectors": vectors })).await;
    let got = got.as_array().unwrap();
    assert_eq!(got.len(), vectors.len());

    for (v, g) in vectors.iter().zip(got) {
        // DeriveKeyPair, the deterministic encapsulation and the whole key schedule, on
        // both sides.
        for field in ["skRm", "pkRm", "skEm", "pkEm", "enc"] {
            assert_eq!(g[field], v[field], "{field}");
        }
        for side in ["sender", "receiver"] {
            for field in [
                "shared_secret",
                "key_schedule_context",
                "secret",
                "key",
                "base_nonce",
                "exporter_secret",
            ] {
                assert_eq!(g[side][field], v[field], "{side} {field}");
            }
        }
        // Every encryption (sequence numbers 0, 1, ...), both ways, and every export.
        let encryptions = v["encryptions"].as_array().unwrap();
        assert_eq!(g["cts"].as_array().unwrap().len(), encryptions.len());
        for (i, e) in encryptions.iter().enumerate() {
            assert_eq!(g["cts"][i], e["ct"], "encryption {i}");
            assert_eq!(g["pts"][i], e["pt"], "decryption {i}");
        }
        for (i, e) in v["exports"].as_array().unwrap().iter().enumerate() {
            assert_eq!(g["exports_s"][i], e["exported_value"], "export {i}");
            assert_eq!(g["exports_r"][i], e["exported_value"], "export {i}");
        }
        // Single shot is sequence 0.
        assert_eq!(g["one_shot"]["enc"], v["enc"]);
        assert_eq!(g["one_shot"]["ct"], encryptions[0]["ct"]);
        assert_eq!(g["opened"], encryptions[0]["pt"]);
        for field in ["wrong_aad", "wrong_info", "flipped"] {
            assert_eq!(g[field], "HPKE_OPEN_FAILED", "{field}");
        }
        assert_eq!(g["extractable"], false);

        // A seal with the browser's randomness opens in Rust.
        let sealed = hpke::Sealed {
            ct: unhex(g["fresh"]["ct"].as_str().unwrap()),
            enc: unhex(g["fresh"]["enc"].as_str().unwrap()),
        };
        assert_ne!(g["fresh"]["enc"], v["enc"]);
        let pt = hpke::open(
            &secret(v["skRm"].as_str().unwrap()),
            &unhex(v["info"].as_str().unwrap()),
            &unhex(encryptions[0]["aad"].as_str().unwrap()),
            &sealed,
        )
        .unwrap();
        assert_eq!(hex::encode(pt), encryptions[0]["pt"].as_str().unwrap());
    }
    driver.close().await;
}

// ---------------------------------------------------------------------- KB1 --

/// Opens each case as the vectors' "procedure" says; a case is
/// {container_base64, expect, bidder_private_hex, tender_private_hex, presented_kb_hex}.
/// The bidder's key is imported non-extractable, as a device key is. BigInt amounts
/// (beyond 2^53) come back as strings.
const OPEN_JS: &str = r##"
const hpke = await import(base + 'hpke.js');
const kb1 = await import(base + 'kb1.js');
const pkg = await import(base + 'package.js');
const B = await import(base + 'bytes.js');
const x = B.toHex;
const out = [];
for (const [n, v] of input.cases.entries()) {
  const bytes = B.fromBase64(v.container_base64);
  const bidder = await hpke.importPrivateKey(B.fromHex(v.bidder_private_hex));
  const tender = await hpke.importPrivateKey(B.fromHex(v.tender_private_hex));
  const parts = [];
  const docs = [];
  try {
    // Alternate the two kinds of source.
    const source = n % 2 === 0 ? new Blob([bytes]) : bytes;
    const opened = await kb1.openContainer(source, {
      expect: v.expect,
      bidderKey: bidder,
      presentedKb: v.presented_kb_hex ? B.fromHex(v.presented_kb_hex) : null,
      tenderKey: tender,
    });
    async function* tap() {
      for await (const p of opened.plaintext()) {
        parts.push(p);
        yield p;
      }
    }
    const r = await pkg.readPackage(tap(), {
      onDocumentChunk: (i, b) => (docs[i] ||= []).push(b.slice()),
    });
    const manifest = JSON.parse(JSON.stringify(r.manifest, (k, val) => (typeof val === 'bigint' ? String(val) : val)));
    out.push({
      ok: {
        segment_count: opened.segmentCount,
        plaintext_len: r.length,
        manifest,
        documents: r.manifest.documents.map((d, i) => ({
          name: d.name,
          size: d.size,
          sha256: r.documentsSha256[i],
          hex: x(B.concat(...(docs[i] || []))),
        })),
        kb_hex: x(opened.kb),
        kt_hex: x(opened.kt),
        header_json: new TextDecoder().decode(opened.headerBytes),
        nonce_prefix_hex: x(opened.header.nonce_prefix),
        package_hex: x(B.concat(...parts)),
      },
    });
  } catch (e) {
    if (!e.code) throw e;
    out.push({ error: { code: e.code, segment: e.segment, field: e.field } });
  }
}
return out;
"##;

/// Seals the valid vectors again with their fixed randomness.
const RESEAL_JS: &str = r##"
const pkg = await import(base + 'package.js');
const B = await import(base + 'bytes.js');
const h = B.fromHex;
const out = [];
for (const c of input.cases) {
  const documents = c.documents.map((d) => ({
    file: new Blob([h(d.hex)]),
    name: d.name,
    mediaType: d.media_type,
  }));
  const t = c.testing;
  const sealed = await pkg.sealBid({
    ...c.params,
    bidderPublicKey: h(c.params.bidderPublicKey),
    tenderPublicKey: h(c.params.tenderPublicKey),
    openingSheet: c.opening_sheet,
    documents,
    testing: {
      kb: h(t.kb), kt: h(t.kt), noncePrefix: h(t.nonce_prefix), ikmKb: h(t.ikm_kb), ikmKt: h(t.ikm_kt),
    },
  });
  const bytes = new Uint8Array(await sealed.blob.arrayBuffer());
  out.push({ container_base64: B.toBase64(bytes), size: sealed.size });
}
return out;
"##;

/// What Rust makes of a case, following the procedure of kb1.json (decrypt everything,
/// then parse the package), in the same JSON shape as OPEN_JS.
fn rust_open(case: &Value) -> Value {
    match rust_open_inner(case) {
        Ok(v) => json!({ "ok": v }),
        Err(e) => {
            let (segment, field) = match &e {
                CryptoError::SegmentAuthFailed { segment } => (json!(segment), Value::Null),
                CryptoError::HeaderMismatch { field } => (Value::Null, json!(field)),
                _ => (Value::Null, Value::Null),
            };
            json!({ "error": { "code": e.code(), "segment": segment, "field": field } })
        }
    }
}

fn rust_open_inner(case: &Value) -> Result<Value, CryptoError> {
    let c = STANDARD
        .decode(case["container_base64"].as_str().unwrap())
        .unwrap();
    let bidder = secret(case["bidder_private_hex"].as_str().unwrap());
    let tender = secret(case["tender_private_hex"].as_str().unwrap());
    let (header, header_bytes, off) = kb1::parse_header(&c[..c.len().min(kb1::MAX_PREFIX_LEN)])?;
    let e = &case["expect"];
    let s = |k: &str| e[k].as_str().unwrap();
    header.check(&Expect {
        tender_id: s("tender_id"),
        lot_no: e["lot_no"].as_u64().unwrap() as u32,
        bidder_org_id: s("bidder_org_id"),
        bid_id: s("bid_id"),
        tender_key: s("tender_key"),
        bidder_key: s("bidder_key"),
    })?;
    let segments = kb1::check_length(&header, (c.len() - off) as u64)?;
    let kb = match case["presented_kb_hex"].as_str() {
        Some(kb) => {
            let kb: [u8; 32] = unhex(kb).try_into().unwrap();
            kb1::check_kb(&header, &kb)?;
            kb
        }
        None => kb1::unseal_kb(&header, &bidder)?,
    };
    let kt = kb1::unseal_kt(&header, &tender)?;
    let mut plaintext = Vec::new();
    kb1::open_stream(&header, &header_bytes, &kb, &kt, &c[off..], &mut plaintext)?;
    let mut docs: Vec<Vec<u8>> = Vec::new();
    let (manifest, hashes) = package::read_package(&plaintext[..], |i, b| {
        if docs.len() <= i {
            docs.resize(i + 1, Vec::new());
        }
        docs[i].extend_from_slice(b);
        Ok(())
    })?;
    docs.resize(manifest.documents.len(), Vec::new());
    let mut manifest_json = serde_json::to_value(&manifest).unwrap();
    // As OPEN_JS returns amounts beyond 2^53 (BigInts).
    let fen = manifest.opening_sheet.total_price_fen;
    if fen.unsigned_abs() > (1u64 << 53) - 1 {
        manifest_json["opening_sheet"]["total_price_fen"] = json!(fen.to_string());
    }
    Ok(json!({
        "segment_count": segments,
        "plaintext_len": plaintext.len(),
        "manifest": manifest_json,
        "documents": manifest.documents.iter().zip(&docs).zip(&hashes).map(|((d, bytes), h)| json!({
            "name": d.name, "size": d.size, "sha256": h, "hex": hex::encode(bytes),
        })).collect::<Vec<_>>(),
        "kb_hex": hex::encode(kb),
        "kt_hex": hex::encode(kt),
        "header_json": String::from_utf8(header_bytes).unwrap(),
        "nonce_prefix_hex": hex::encode(header.nonce_prefix),
        "package_hex": hex::encode(&plaintext),
    }))
}

/// `det` of src/bid/tests: SHA-256 of a label, the vectors' fixed randomness.
fn det(label: &str) -> String {
    sha256_hex(format!("kaibiao KB1 test vectors/{label}").as_bytes())
}

/// Containers derived from the vectors, each opened by Rust and by the browser: headers
/// at the edges of serde_json's grammar and of the canonical form, lengths, and packages
/// that are malformed or unusual but sealed correctly.
fn mutated_cases(file: &Value) -> Vec<(String, Value)> {
    let vectors = file["vectors"].as_array().unwrap();
    let multi = vectors
        .iter()
        .find(|v| v["name"] == "valid-multi-segment")
        .unwrap();
    let c = STANDARD
        .decode(multi["container_base64"].as_str().unwrap())
        .unwrap();
    let n = u32::from_be_bytes(c[8..12].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&c[12..12 + n]).unwrap().to_string();
    let segments = c[12 + n..].to_vec();
    let case = |name: &str, container: Vec<u8>| {
        let mut v = multi.clone();
        v["container_base64"] = json!(STANDARD.encode(&container));
        (name.to_string(), v)
    };
    let with_header = |h: &[u8]| {
        let mut out = kb1::MAGIC.to_vec();
        out.extend_from_slice(&(h.len() as u32).to_be_bytes());
        out.extend_from_slice(h);
        out.extend_from_slice(&segments);
        out
    };
    let edit = |from: &str, to: &str| {
        assert!(header.contains(from), "{from}");
        with_header(header.replacen(from, to, 1).as_bytes())
    };
    let prepend = |fields: &str| with_header(format!("{{{fields}{}", &header[1..]).as_bytes());
    let kb2 = header.replacen("\"suite\":\"KB1\"", "\"suite\":\"KB2\"", 1);
    let kb2_with = |fields: &[u8]| {
        let mut h = b"{".to_vec();
        h.extend_from_slice(fields);
        h.extend_from_slice(&kb2.as_bytes()[1..]);
        with_header(&h)
    };
    let nonce = multi["expected"]["debug"]["header_json"].as_str().unwrap();
    let nonce = nonce.split("\"nonce_prefix\":\"").nth(1).unwrap()[..10].to_string();
    let mut bad_bits = nonce.clone();
    bad_bits.replace_range(9..10, if nonce.ends_with('h') { "i" } else { "h" });

    let mut cases = vec![
        case("header-space", edit("{\"bid_id\"", "{ \"bid_id\"")),
        case("header-duplicate-field", prepend("\"lot_no\":2,")),
        case("header-duplicate-suite", prepend("\"suite\":\"KB1\",")),
        case("header-unknown-field", prepend("\"zzz\":1,")),
        case("header-escaped-key", edit("\"suite\":", "\"suit\\u0065\":")),
        case("version-float", edit("\"version\":1}", "\"version\":1.0}")),
        case("version-2", edit("\"version\":1}", "\"version\":2}")),
        case(
            "version-overflow",
            edit("\"version\":1}", "\"version\":1e999}"),
        ),
        case(
            "version-string",
            edit("\"version\":1}", "\"version\":\"1\"}"),
        ),
        case("suite-number", edit("\"suite\":\"KB1\"", "\"suite\":1")),
        case(
            "suite-kb2-deep-unknown-field",
            kb2_with(format!("\"x\":{}{},", "[".repeat(3000), "]".repeat(3000)).as_bytes()),
        ),
        case(
            "suite-kb2-lone-surrogate-unknown",
            kb2_with(b"\"x\":\"\\ud800\","),
        ),
        case("suite-kb2-bad-utf8-unknown", kb2_with(b"\"x\":\"\xff\",")),
        case("array-header-kb2", with_header(b"[\"KB2\",1]")),
        case("array-header-kb1", with_header(b"[\"KB1\",1]")),
        case(
            "lone-surrogate-id",
            edit(
                "\"tender_id\":\"01936f3a-5c00-7d21-9a7e-2b6a3d0c1e01\"",
                "\"tender_id\":\"\\ud800\"",
            ),
        ),
        case("bom", {
            let mut h = b"\xef\xbb\xbf".to_vec();
            h.extend_from_slice(header.as_bytes());
            with_header(&h)
        }),
        case(
            "segment-size-65",
            edit("\"segment_size\":64", "\"segment_size\":65"),
        ),
        case(
            "tender-key-upper-case",
            edit(
                multi["expect"]["tender_key"].as_str().unwrap(),
                &multi["expect"]["tender_key"]
                    .as_str()
                    .unwrap()
                    .to_uppercase(),
            ),
        ),
        case("nonce-prefix-trailing-bits", edit(&nonce, &bad_bits)),
        case("header-length-zero", {
            let mut out = c.clone();
            out[8..12].copy_from_slice(&0u32.to_be_bytes());
            out
        }),
        case("header-length-too-big", {
            let mut out = c.clone();
            out[8..12].copy_from_slice(&65537u32.to_be_bytes());
            out
        }),
        case("ends-inside-header", c[..12 + n - 5].to_vec()),
        case("empty-file", Vec::new()),
        case("short-magic", b"KAIB".to_vec()),
        case("short-wrong-magic", b"KAIX".to_vec()),
        case("magic-only", b"KAIBIAO1\0\0".to_vec()),
        case("one-byte-more", {
            let mut out = c.clone();
            out.push(0);
            out
        }),
        case("a-lone-tag-after-full-segments", {
            let exact = vectors
                .iter()
                .find(|v| v["name"] == "valid-full-last-segment")
                .unwrap();
            let mut out = STANDARD
                .decode(exact["container_base64"].as_str().unwrap())
                .unwrap();
            out.extend_from_slice(&[0; 16]);
            out
        }),
        case("no-segments", c[..12 + n].to_vec()),
    ];

    // Packages: sealed properly by Rust, with the vectors' keys.
    let keys = &file["keys"];
    let bidder_pub = unhex(keys["bidder"]["public_sec1_hex"].as_str().unwrap());
    let tender_pub = unhex(keys["tender"]["public_sec1_hex"].as_str().unwrap());
    let e = &multi["expect"];
    let seal = |plaintext: &[u8]| {
        let p = SealParams {
            tender_id: e["tender_id"].as_str().unwrap(),
            lot_no: e["lot_no"].as_u64().unwrap() as u32,
            bidder_org_id: e["bidder_org_id"].as_str().unwrap(),
            bid_id: e["bid_id"].as_str().unwrap(),
            bidder_public_sec1: &bidder_pub,
            tender_public_sec1: &tender_pub,
            segment_size: 64,
        };
        let mut out = Vec::new();
        kb1::seal_stream(&p, plaintext, &mut out).unwrap();
        out
    };
    let part = |bytes: &[u8]| {
        let mut out = (bytes.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(bytes);
        out
    };
    let trailer = |manifest: &[u8], docs: &[&[u8]]| {
        let hashes: Vec<String> = docs.iter().map(|d| sha256_hex(d)).collect();
        serde_json::to_vec(
            &json!({"documents_sha256": hashes, "manifest_sha256": sha256_hex(manifest)}),
        )
        .unwrap()
    };
    let pkg = |manifest: &str, docs: &[&[u8]]| {
        let m = manifest.as_bytes();
        let mut out = part(m);
        for d in docs {
            out.extend_from_slice(d);
        }
        out.extend_from_slice(&part(&trailer(m, docs)));
        out
    };
    let sheet = r#"{"total_price_fen":123456789,"total_price_words":"壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分","delivery_days":30,"warranty_months":36,"enterprise_size":"small","special_status":null,"notes":""}"#;
    let manifest =
        |sheet: &str, docs: &str| format!(r#"{{"opening_sheet":{sheet},"documents":{docs}}}"#);
    let one_doc = r#"[{"name":"a.txt","size":3,"media_type":"text/plain"}]"#;
    let plain = manifest(sheet, one_doc);
    let valid = pkg(&plain, &[b"abc"]);

    let mut packages: Vec<(&str, Vec<u8>)> = vec![
        ("package-valid", valid.clone()),
        (
            "package-structs-as-arrays",
            pkg(
                &manifest(
                    r#"[123456789,"壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分",30,36,"small",null,""]"#,
                    r#"[["a.txt",3,"text/plain"]]"#,
                ),
                &[b"abc"],
            ),
        ),
        (
            "package-struct-array-too-short",
            pkg(
                &manifest(
                    r#"[123456789,"壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分",30,36,"small",""]"#,
                    "[]",
                ),
                &[],
            ),
        ),
        (
            "package-no-special-status",
            pkg(
                &manifest(&sheet.replace("\"special_status\":null,", ""), one_doc),
                &[b"abc"],
            ),
        ),
        (
            "package-duplicate-notes",
            pkg(
                &manifest(
                    &sheet.replace("\"notes\":\"\"", "\"notes\":\"\",\"notes\":\"x\""),
                    one_doc,
                ),
                &[b"abc"],
            ),
        ),
        (
            "package-float-price",
            pkg(
                &manifest(&sheet.replace("123456789", "123456789.0"), one_doc),
                &[b"abc"],
            ),
        ),
        (
            "package-big-price",
            pkg(
                &manifest(&sheet.replace("123456789", "9007199254740993"), one_doc),
                &[b"abc"],
            ),
        ),
        (
            "package-price-over-i64",
            pkg(
                &manifest(&sheet.replace("123456789", "9223372036854775808"), one_doc),
                &[b"abc"],
            ),
        ),
        (
            "package-negative-zero-days",
            pkg(
                &manifest(
                    &sheet.replace("\"delivery_days\":30", "\"delivery_days\":-0"),
                    one_doc,
                ),
                &[b"abc"],
            ),
        ),
        (
            "package-lone-surrogate-notes",
            pkg(
                &manifest(
                    &sheet.replace("\"notes\":\"\"", "\"notes\":\"\\udc00\""),
                    one_doc,
                ),
                &[b"abc"],
            ),
        ),
        (
            "package-escaped-name",
            pkg(
                &manifest(
                    sheet,
                    r#"[{"name":"\u6587\u4ef6.txt","size":3,"media_type":"text/plain"}]"#,
                ),
                &[b"abc"],
            ),
        ),
        (
            "package-unknown-field",
            pkg(
                &manifest(
                    &sheet.replace("\"notes\":\"\"", "\"notes\":\"\",\"x\":1"),
                    one_doc,
                ),
                &[b"abc"],
            ),
        ),
        (
            "package-huge-document",
            pkg(
                &manifest(
                    sheet,
                    r#"[{"name":"a.txt","size":1152921504606846976,"media_type":"text/plain"}]"#,
                ),
                &[b"abc"],
            ),
        ),
        ("package-bom", {
            let mut m = b"\xef\xbb\xbf".to_vec();
            m.extend_from_slice(plain.as_bytes());
            let mut out = part(&m);
            out.extend_from_slice(b"abc");
            out.extend_from_slice(&part(&trailer(&m, &[b"abc"])));
            out
        }),
        ("package-empty", Vec::new()),
        ("package-byte-after-trailer", {
            let mut out = valid.clone();
            out.push(b' ');
            out
        }),
        ("package-manifest-over-limit", {
            let mut out = valid.clone();
            out[..4].copy_from_slice(&(1024 * 1024 + 1u32).to_be_bytes());
            out
        }),
        ("package-trailer-extra-field", {
            let m = plain.as_bytes();
            let mut t: Value = serde_json::from_slice(&trailer(m, &[b"abc"])).unwrap();
            t["x"] = json!(1);
            let mut out = part(m);
            out.extend_from_slice(b"abc");
            out.extend_from_slice(&part(&serde_json::to_vec(&t).unwrap()));
            out
        }),
        ("package-trailer-count", {
            let m = plain.as_bytes();
            let mut out = part(m);
            out.extend_from_slice(b"abc");
            out.extend_from_slice(&part(&trailer(m, &[b"abc", b"abc"])));
            out
        }),
        ("package-manifest-hash", {
            let m = plain.as_bytes();
            let mut out = part(m);
            out.extend_from_slice(b"abc");
            out.extend_from_slice(&part(&trailer(b"other", &[b"abc"])));
            out
        }),
        ("package-upper-case-hash", {
            let m = plain.as_bytes();
            let t = String::from_utf8(trailer(m, &[b"abc"])).unwrap();
            let h = sha256_hex(b"abc");
            let mut out = part(m);
            out.extend_from_slice(b"abc");
            out.extend_from_slice(&part(t.replace(&h, &h.to_uppercase()).as_bytes()));
            out
        }),
    ];
    // A malformed package whose last segment was also altered: the procedure decrypts
    // before it parses, so the segment is reported.
    let malformed = pkg(
        &manifest(
            &sheet.replace("\"notes\":\"\"", "\"notes\":\"\",\"notes\":\"x\""),
            one_doc,
        ),
        &[b"abc"],
    );
    for (name, plaintext) in packages.drain(..) {
        cases.push(case(name, seal(&plaintext)));
    }
    let mut tampered = seal(&malformed);
    let last = tampered.len() - 3;
    tampered[last] ^= 1;
    cases.push(case("package-malformed-and-last-segment-altered", tampered));
    cases
}

#[tokio::test]
async fn kb1_vectors_and_mutated_containers_open_in_the_browser_as_in_rust() {
    let Some((driver, app)) = app_page("/login.html", 180).await else {
        return;
    };
    let c = &driver.client;
    let file: Value = serde_json::from_str(KB1_VECTORS).unwrap();
    let vectors = file["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 12);

    // Every vector, as the procedure says, with the outcome recorded in the file.
    let got = run_js(c, &app, OPEN_JS, json!({ "cases": vectors })).await;
    for (v, g) in vectors.iter().zip(got.as_array().unwrap()) {
        let name = v["name"].as_str().unwrap();
        // Rust agrees with the file (src/bid/tests checks it too) ...
        let rust = rust_open(v);
        // ... and the browser with both.
        match (&v["expected"], &v["expected_error"]) {
            (exp, Value::Null) => {
                let ok = &g["ok"];
                assert!(ok.is_object(), "{name}: {g}");
                assert_eq!(ok["segment_count"], exp["segment_count"], "{name}");
                assert_eq!(ok["plaintext_len"], exp["plaintext_len"], "{name}");
                assert_eq!(ok["manifest"], exp["manifest"], "{name}");
                assert_eq!(ok["documents"], exp["documents"], "{name}");
                let debug = &exp["debug"];
                for field in [
                    "kb_hex",
                    "kt_hex",
                    "header_json",
                    "nonce_prefix_hex",
                    "package_hex",
                ] {
                    assert_eq!(ok[field], debug[field], "{name}: {field}");
                }
                assert_eq!(rust, *g, "{name}");
            }
            (Value::Null, err) => {
                assert_eq!(g["error"]["code"], err["code"], "{name}: {g}");
                assert_eq!(g["error"]["segment"], err["segment"], "{name}");
                assert_eq!(g["error"]["field"], err["field"], "{name}");
                assert_eq!(rust, *g, "{name}");
            }
            _ => panic!("{name}: a vector has an outcome or an error"),
        }
    }

    // The browser seals the valid vectors byte for byte as Rust did, given the same
    // randomness (kb, kt, nonce prefix and the HPKE ephemeral keys' ikm).
    let keys = &file["keys"];
    let reseal: Vec<Value> = [
        ("valid-multi-segment", "multi"),
        ("valid-empty-documents", "empty"),
        ("valid-full-last-segment", "exact"),
    ]
    .iter()
    .map(|(name, label)| {
        let v = vectors.iter().find(|v| v["name"] == *name).unwrap();
        let exp = &v["expected"];
        let header: Value =
            serde_json::from_str(exp["debug"]["header_json"].as_str().unwrap()).unwrap();
        let e = &v["expect"];
        json!({
            "params": {
                "tenderId": e["tender_id"], "lotNo": e["lot_no"], "bidderOrgId": e["bidder_org_id"],
                "bidId": e["bid_id"], "segmentSize": header["segment_size"],
                "bidderPublicKey": keys["bidder"]["public_sec1_hex"],
                "tenderPublicKey": keys["tender"]["public_sec1_hex"],
            },
            "opening_sheet": exp["manifest"]["opening_sheet"],
            "documents": exp["documents"].as_array().unwrap().iter()
                .zip(exp["manifest"]["documents"].as_array().unwrap())
                .map(|(d, m)| json!({"name": d["name"], "hex": d["hex"], "media_type": m["media_type"]}))
                .collect::<Vec<_>>(),
            "testing": {
                "kb": det(&format!("{label}/kb")),
                "kt": det(&format!("{label}/kt")),
                "nonce_prefix": det(&format!("{label}/nonce_prefix"))[..14],
                "ikm_kb": det(&format!("{label}/hpke_ikm_kb")),
                "ikm_kt": det(&format!("{label}/hpke_ikm_kt")),
            },
            "expected_base64": v["container_base64"],
            "expected_len": v["container_len"],
        })
    })
    .collect();
    let got = run_js(c, &app, RESEAL_JS, json!({ "cases": reseal })).await;
    for (r, g) in reseal.iter().zip(got.as_array().unwrap()) {
        assert_eq!(g["size"], r["expected_len"]);
        assert!(
            g["container_base64"] == r["expected_base64"],
            "the browser sealed {} differently",
            r["params"]["segmentSize"]
        );
    }

    // Mutated containers: the browser and Rust give the same outcome for each.
    let cases = mutated_cases(&file);
    let inputs: Vec<Value> = cases.iter().map(|(_, v)| v.clone()).collect();
    let got = run_js(c, &app, OPEN_JS, json!({ "cases": inputs })).await;
    let mut codes = Vec::new();
    for ((name, case), g) in cases.iter().zip(got.as_array().unwrap()) {
        let rust = rust_open(case);
        assert_eq!(*g, rust, "{name}: browser vs Rust");
        let code = rust["error"]["code"].as_str().unwrap_or("OK").to_string();
        codes.push((name.as_str(), code));
    }
    // And the cases test what they are named for.
    let expected = [
        ("header-space", "CONTAINER_HEADER"),
        ("header-duplicate-field", "CONTAINER_HEADER"),
        ("header-duplicate-suite", "CONTAINER_HEADER"),
        ("header-unknown-field", "CONTAINER_HEADER"),
        ("header-escaped-key", "CONTAINER_HEADER"),
        ("version-float", "CONTAINER_SUITE"),
        ("version-2", "CONTAINER_SUITE"),
        ("version-overflow", "CONTAINER_HEADER"),
        ("version-string", "CONTAINER_HEADER"),
        ("suite-number", "CONTAINER_HEADER"),
        ("suite-kb2-deep-unknown-field", "CONTAINER_SUITE"),
        ("suite-kb2-lone-surrogate-unknown", "CONTAINER_SUITE"),
        ("suite-kb2-bad-utf8-unknown", "CONTAINER_SUITE"),
        ("array-header-kb2", "CONTAINER_SUITE"),
        ("array-header-kb1", "CONTAINER_HEADER"),
        ("lone-surrogate-id", "CONTAINER_HEADER"),
        ("bom", "CONTAINER_HEADER"),
        ("segment-size-65", "CONTAINER_HEADER"),
        ("tender-key-upper-case", "CONTAINER_HEADER"),
        ("nonce-prefix-trailing-bits", "CONTAINER_HEADER"),
        ("header-length-zero", "CONTAINER_HEADER"),
        ("header-length-too-big", "CONTAINER_HEADER"),
        ("ends-inside-header", "CONTAINER_TRUNCATED"),
        ("empty-file", "CONTAINER_TRUNCATED"),
        ("short-magic", "CONTAINER_TRUNCATED"),
        ("short-wrong-magic", "CONTAINER_MAGIC"),
        ("magic-only", "CONTAINER_TRUNCATED"),
        ("one-byte-more", "SEGMENT_AUTH_FAILED"),
        ("a-lone-tag-after-full-segments", "CONTAINER_TRUNCATED"),
        ("no-segments", "CONTAINER_TRUNCATED"),
        ("package-valid", "OK"),
        ("package-structs-as-arrays", "OK"),
        ("package-struct-array-too-short", "PACKAGE_MALFORMED"),
        ("package-no-special-status", "OK"),
        ("package-duplicate-notes", "PACKAGE_MALFORMED"),
        ("package-float-price", "PACKAGE_MALFORMED"),
        ("package-big-price", "OK"),
        ("package-price-over-i64", "PACKAGE_MALFORMED"),
        ("package-negative-zero-days", "PACKAGE_MALFORMED"),
        ("package-lone-surrogate-notes", "PACKAGE_MALFORMED"),
        ("package-escaped-name", "OK"),
        ("package-unknown-field", "PACKAGE_MALFORMED"),
        ("package-huge-document", "PACKAGE_MALFORMED"),
        ("package-bom", "PACKAGE_MALFORMED"),
        ("package-empty", "PACKAGE_MALFORMED"),
        ("package-byte-after-trailer", "PACKAGE_MALFORMED"),
        ("package-manifest-over-limit", "PACKAGE_MALFORMED"),
        ("package-trailer-extra-field", "PACKAGE_MALFORMED"),
        ("package-trailer-count", "PACKAGE_MALFORMED"),
        ("package-manifest-hash", "PLAINTEXT_HASH_MISMATCH"),
        ("package-upper-case-hash", "PLAINTEXT_HASH_MISMATCH"),
        (
            "package-malformed-and-last-segment-altered",
            "SEGMENT_AUTH_FAILED",
        ),
    ];
    let expected: Vec<(&str, String)> = expected.iter().map(|(n, c)| (*n, c.to_string())).collect();
    assert_eq!(codes, expected);
    driver.close().await;
}

// --------------------------------------------------------------- JS → Rust --

const SEAL_JS: &str = r##"
const pkg = await import(base + 'package.js');
const B = await import(base + 'bytes.js');
const h = B.fromHex;
const MiB = 1024 * 1024;
// A generated 3 MiB document; Rust computes the same pattern.
const doc = new Uint8Array(3 * MiB);
for (let i = 0; i < doc.length; i++) doc[i] = (i * 31 + (i >>> 13)) & 0xff;
const file = new File([doc], '技术响应文件.pdf', { type: 'application/pdf' });
const common = {
  tenderId: input.tender_id, lotNo: input.lot_no, bidderOrgId: input.bidder_org_id, bidId: input.bid_id,
  bidderPublicKey: h(input.bidder_public_hex), tenderPublicKey: h(input.tender_public_hex),
  openingSheet: input.opening_sheet,
};
const progress = [];
const sealed = await pkg.sealBid({
  ...common, segmentSize: MiB, documents: [{ file }], onProgress: (done, total) => progress.push([done, total]),
});
const bytes = new Uint8Array(await sealed.blob.arrayBuffer());

// The same bid as upload chunks, with two more documents (one empty) and small segments.
const streamed = await pkg.sealBid({
  ...common,
  segmentSize: 65536,
  documents: [
    { file },
    { file: new Blob([doc.subarray(0, 100000)]), name: '报价明细.xlsx', mediaType: input.xlsx },
    { file: new File([], 'empty.txt', { type: 'text/plain' }) },
  ],
  output: 'chunks',
});
const parts = [];
for await (const chunk of streamed.chunks) parts.push(chunk);
return {
  container: B.toBase64(bytes),
  size: sealed.size,
  progress,
  streamed: B.toBase64(B.concat(...parts)),
  streamed_size: streamed.size,
  streamed_chunks: parts.length,
};
"##;

fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + (i >> 13)) & 0xff) as u8)
        .collect()
}

struct OpenedBid {
    header: kb1::Header,
    segments: u64,
    manifest: package::Manifest,
    manifest_bytes: Vec<u8>,
    documents: Vec<Vec<u8>>,
    hashes: Vec<String>,
}

/// Opens a container with Rust's streaming reader, as the opening will.
fn open_in_rust(
    c: &[u8],
    expect: &Expect<'_>,
    bidder: &p256::SecretKey,
    tender: &p256::SecretKey,
) -> OpenedBid {
    let (header, header_bytes, off) =
        kb1::parse_header(&c[..c.len().min(kb1::MAX_PREFIX_LEN)]).expect("the header parses");
    header.check(expect).expect("the header is for this bid");
    let segments = kb1::check_length(&header, (c.len() - off) as u64).unwrap();
    let kb = kb1::unseal_kb(&header, bidder).expect("kb opens with the bidder key");
    let kt = kb1::unseal_kt(&header, tender).expect("kt opens with the tender key");
    let mut documents: Vec<Vec<u8>> = Vec::new();
    let reader = kb1::OpenReader::new(&header, &header_bytes, &kb, &kt, &c[off..]).unwrap();
    let (manifest, hashes) = package::read_package(reader, |i, b| {
        if documents.len() <= i {
            documents.resize(i + 1, Vec::new());
        }
        documents[i].extend_from_slice(b);
        Ok(())
    })
    .expect("the package reads");
    documents.resize(manifest.documents.len(), Vec::new());
    let mut plaintext = Vec::new();
    kb1::open_stream(&header, &header_bytes, &kb, &kt, &c[off..], &mut plaintext).unwrap();
    let m = u32::from_be_bytes(plaintext[..4].try_into().unwrap()) as usize;
    OpenedBid {
        header,
        segments,
        manifest,
        manifest_bytes: plaintext[4..4 + m].to_vec(),
        documents,
        hashes,
    }
}

#[tokio::test]
async fn a_bid_sealed_in_the_browser_opens_in_rust() {
    let Some((driver, app)) = app_page("/login.html", 180).await else {
        return;
    };
    let c = &driver.client;

    // The page is served with the CSP the modules must live with: no eval, no wasm.
    let r = crate::common::client()
        .get(app.url("/login.html"))
        .send()
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(!csp.contains("eval"), "{csp}");
    let r = crate::common::client()
        .get(app.url("/vendor/noble-hashes/sha2.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));

    // Rust makes the tender's and the bidder's key pairs; the page gets public keys only.
    let tender = kaibiao::pki::keyfile::DeviceKeys::generate().encryption;
    let bidder = kaibiao::pki::keyfile::DeviceKeys::generate().encryption;
    let tender_pub = keys::public_sec1(&tender.public_key());
    let bidder_pub = keys::public_sec1(&bidder.public_key());
    let (tender_id, bid_id) = (
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
    );
    let org_id = app.org_id("supplier1").await;
    let fen = 9_876_543_210i64;
    let sheet = package::OpeningSheet {
        total_price_fen: fen,
        total_price_words: package::amount_in_words(fen),
        delivery_days: 45,
        warranty_months: 24,
        enterprise_size: "micro".into(),
        special_status: Some("disability_welfare".into()),
        notes: "含税价,\"含运费\"\n\t第二行 \u{1} / \\ 😀".into(),
        brand: None,
        products: Vec::new(),
        consortium_small_micro_share_bp: None,
    };
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let got = run_js(
        c,
        &app,
        SEAL_JS,
        json!({
            "tender_id": tender_id, "lot_no": 3, "bidder_org_id": org_id, "bid_id": bid_id,
            "bidder_public_hex": hex::encode(&bidder_pub), "tender_public_hex": hex::encode(&tender_pub),
            "opening_sheet": sheet, "xlsx": xlsx,
        }),
    )
    .await;

    let (tender_key, bidder_key) = (keys::key_id(&tender_pub), keys::key_id(&bidder_pub));
    let expect = Expect {
        tender_id: &tender_id,
        lot_no: 3,
        bidder_org_id: &org_id,
        bid_id: &bid_id,
        tender_key: &tender_key,
        bidder_key: &bidder_key,
    };
    let doc = pattern(3 * 1024 * 1024);

    // The Blob, 1 MiB segments.
    let container = STANDARD.decode(got["container"].as_str().unwrap()).unwrap();
    assert_eq!(got["size"], json!(container.len()), "size known in advance");
    let o = open_in_rust(&container, &expect, &bidder, &tender);
    assert_eq!(o.header.segment_size, 1024 * 1024);
    assert_eq!(
        o.segments, 4,
        "3 MiB of document and the manifest and trailer"
    );
    assert_eq!(o.manifest.opening_sheet, sheet);
    assert_eq!(
        o.manifest.documents,
        vec![package::DocumentEntry {
            name: "技术响应文件.pdf".into(),
            size: doc.len() as u64,
            media_type: "application/pdf".into(),
        }]
    );
    assert!(o.documents[0] == doc, "the document comes back intact");
    assert_eq!(o.hashes, vec![sha256_hex(&doc)]);
    // The manifest's bytes are the ones serde writes.
    assert_eq!(o.manifest_bytes, serde_json::to_vec(&o.manifest).unwrap());
    // Progress: after each segment, in plaintext bytes, ending at the package length.
    let progress: Vec<(u64, u64)> = serde_json::from_value(got["progress"].clone()).unwrap();
    assert_eq!(progress.len(), 4);
    let total = progress[3].1;
    assert_eq!(progress[3].0, total);
    assert_eq!(
        total,
        container.len() as u64 - 12 - o.header.to_bytes().len() as u64 - 4 * 16
    );
    assert!(progress
        .windows(2)
        .all(|w| w[0].0 < w[1].0 && w[0].1 == total));

    // The upload chunks: the prefix, then one chunk per segment.
    let streamed = STANDARD.decode(got["streamed"].as_str().unwrap()).unwrap();
    assert_eq!(got["streamed_size"], json!(streamed.len()));
    let s = open_in_rust(&streamed, &expect, &bidder, &tender);
    assert_eq!(s.header.segment_size, 65536);
    assert_eq!(got["streamed_chunks"], json!(1 + s.segments));
    let names: Vec<(&str, u64, &str)> = s
        .manifest
        .documents
        .iter()
        .map(|d| (d.name.as_str(), d.size, d.media_type.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("技术响应文件.pdf", doc.len() as u64, "application/pdf"),
            ("报价明细.xlsx", 100_000, xlsx),
            ("empty.txt", 0, "text/plain"),
        ]
    );
    assert!(s.documents[0] == doc);
    assert!(s.documents[1] == doc[..100_000]);
    assert!(s.documents[2].is_empty());
    assert_eq!(
        s.hashes,
        vec![
            sha256_hex(&doc),
            sha256_hex(&doc[..100_000]),
            sha256_hex(b"")
        ]
    );
    // Fresh keys and nonces for every container.
    assert_ne!(s.header.nonce_prefix, o.header.nonce_prefix);
    assert_ne!(s.header.kb_sha256, o.header.kb_sha256);
    driver.close().await;
}

// -------------------------------------------------------------- device keys --

const CREATE_KEYS_JS: &str = r##"
const api = await import(base + '../api.js');
const keys = await import(base + 'keys.js');
const me = await api.currentUser();
const record = await keys.createDeviceKeys(me.id);
await keys.registerDeviceKeys(record);
const view = (k) => ({ key_id: k.keyId, public_key: k.publicB64, registered_at: k.registeredAt });
return {
  user_id: me.id,
  signing: view(record.signing),
  encryption: view(record.encryption),
  listed: await api.get('/api/keys'),
};
"##;

/// After a page load: the keys come back from IndexedDB, still non-extractable and usable.
const USE_KEYS_JS: &str = r##"
const keys = await import(base + 'keys.js');
const hpke = await import(base + 'hpke.js');
const kb1 = await import(base + 'kb1.js');
const pkg = await import(base + 'package.js');
const B = await import(base + 'bytes.js');
const record = await keys.loadDeviceKeys(input.user_id);
const refused = async (key, format) => {
  try {
    await crypto.subtle.exportKey(format, key);
    return 'exported';
  } catch (e) {
    return e.name;
  }
};
const message = B.utf8(input.message);
const signature = await keys.sign(record, message);
// Registering again changes nothing: both keys are registered.
const again = await keys.registerDeviceKeys(record);

// A bid sealed to this device's encryption key: kb unseals with the stored,
// non-extractable key, and the whole bid opens with an in-page tender key.
const tender = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
const tenderPublic = new Uint8Array(await crypto.subtle.exportKey('raw', tender.publicKey));
const sealed = await pkg.sealBid({
  tenderId: 't-1', lotNo: 1, bidderOrgId: 'org-1', bidId: 'bid-1',
  bidderPublicKey: record.encryption.publicSec1, tenderPublicKey: tenderPublic,
  segmentSize: 64,
  openingSheet: {
    total_price_fen: 100, total_price_words: '壹元整', delivery_days: 1, warranty_months: 1,
    enterprise_size: 'small', special_status: null, notes: '',
  },
  documents: [{ file: new File([B.utf8('hello')], 'a.txt', { type: 'text/plain' }) }],
});
const { header } = await kb1.readHeader(sealed.blob);
const kb = await kb1.unsealKb(header, record.encryption);
const opened = await pkg.openBid(sealed.blob, { bidderKey: record.encryption, tenderKey: tender });
return {
  user_id: record.userId,
  signing_key_id: record.signing.keyId,
  encryption_key_id: record.encryption.keyId,
  signing_public: record.signing.publicB64,
  kinds: [record.signing.privateKey.type, record.encryption.privateKey.type],
  algorithms: [record.signing.privateKey.algorithm.name, record.encryption.privateKey.algorithm.name],
  extractable: [record.signing.privateKey.extractable, record.encryption.privateKey.extractable],
  export_pkcs8: [await refused(record.signing.privateKey, 'pkcs8'), await refused(record.encryption.privateKey, 'pkcs8')],
  export_jwk: [await refused(record.signing.privateKey, 'jwk'), await refused(record.encryption.privateKey, 'jwk')],
  signature: B.toB64url(signature),
  registered_again: [again.signing.registeredAt, again.encryption.registeredAt],
  kb_matches: (await B.sha256Hex(kb)) === header.kb_sha256,
  bidder_key: header.bidder_key,
  opened_documents: opened.manifest.documents.map((d) => d.name),
  opened_sha256: opened.documentsSha256,
};
"##;

#[tokio::test]
async fn device_keys_are_made_kept_and_registered_by_the_browser() {
    let Some((driver, app)) = app_page("/login.html", 180).await else {
        return;
    };
    let c = &driver.client;
    login(c, &app, "supplier1").await;
    let user_id = app.user_id("supplier1").await;

    let made = run_js(c, &app, CREATE_KEYS_JS, Value::Null).await;
    assert_eq!(made["user_id"], json!(user_id));
    // The server certified both, and lists them as active.
    let listed = made["listed"].as_array().unwrap();
    for purpose in ["signing", "encryption"] {
        let key = &made[purpose];
        assert!(key["registered_at"].is_i64(), "{purpose}: {key}");
        let row = listed
            .iter()
            .find(|k| k["key_id"] == key["key_id"])
            .unwrap_or_else(|| panic!("{purpose} key not listed: {listed:?}"));
        assert_eq!(row["purpose"], purpose);
        assert_eq!(row["status"], "active");
        assert_eq!(row["public_key"], key["public_key"]);
        let public = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(key["public_key"].as_str().unwrap())
            .unwrap();
        assert_eq!(key["key_id"], json!(keys::key_id(&public)));
    }

    // A new page load: the keys come back from IndexedDB.
    c.goto(&app.url("/dashboard.html")).await.unwrap();
    wait_css(c, "body").await;
    let message = "报价确认 webcrypto";
    let used = run_js(
        c,
        &app,
        USE_KEYS_JS,
        json!({ "user_id": user_id, "message": message }),
    )
    .await;
    assert_eq!(used["signing_key_id"], made["signing"]["key_id"]);
    assert_eq!(used["encryption_key_id"], made["encryption"]["key_id"]);
    assert_eq!(used["kinds"], json!(["private", "private"]));
    assert_eq!(used["algorithms"], json!(["ECDSA", "ECDH"]));
    assert_eq!(used["extractable"], json!([false, false]));
    assert_eq!(
        used["export_pkcs8"],
        json!(["InvalidAccessError", "InvalidAccessError"])
    );
    assert_eq!(
        used["export_jwk"],
        json!(["InvalidAccessError", "InvalidAccessError"])
    );
    assert_eq!(
        used["registered_again"],
        json!([
            made["signing"]["registered_at"],
            made["encryption"]["registered_at"]
        ])
    );
    // The signature is 64 bytes r || s and verifies with the registered key.
    let public = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(used["signing_public"].as_str().unwrap())
        .unwrap();
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(used["signature"].as_str().unwrap())
        .unwrap();
    assert_eq!(signature.len(), 64);
    assert!(kaibiao::pki::authority::verify_signature(
        &public,
        message.as_bytes(),
        &signature
    ));
    // The stored encryption key unseals kb and, with a tender key, opens the bid.
    assert_eq!(used["kb_matches"], true);
    assert_eq!(used["bidder_key"], made["encryption"]["key_id"]);
    assert_eq!(used["opened_documents"], json!(["a.txt"]));
    assert_eq!(used["opened_sha256"], json!([sha256_hex(b"hello")]));

    // The server agrees: both keys active for the user.
    let s = app.login("supplier1").await;
    let (status, list) = s.get("/api/keys").await;
    assert_eq!(status, 200);
    let active: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["status"] == "active")
        .map(|k| {
            (
                k["purpose"].as_str().unwrap(),
                k["key_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(active.contains(&("signing", made["signing"]["key_id"].as_str().unwrap())));
    assert!(active.contains(&("encryption", made["encryption"]["key_id"].as_str().unwrap())));
    driver.close().await;
}
