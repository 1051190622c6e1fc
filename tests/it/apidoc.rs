//! The API's description (src/apidoc.rs): OpenAPI 3.1 at `/api/openapi.json`, generated
//! from the route declarations — every declared route in it with who may call it — and
//! valid by `openapi-spec-validator` (installed by .ci/run from tests/requirements.txt).

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::{in_ci, spawn_app};

#[tokio::test]
async fn the_openapi_description_has_every_declared_route_and_validates() {
    let app = spawn_app().await;
    let (status, doc) = app.call(Method::GET, "/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK, "public, signed in or not");
    assert_eq!(doc["openapi"], "3.1.0");

    let specs = kaibiao::startup::route_specs();
    let mut ids = BTreeSet::new();
    for s in &specs {
        let op = &doc["paths"][s.path][s.method.as_str().to_lowercase()];
        assert!(op.is_object(), "{} {} is not described", s.method, s.path);
        assert!(
            ids.insert(op["operationId"].as_str().unwrap().to_string()),
            "{op}"
        );
        assert_eq!(op["tags"][0], s.area);
        let public = matches!(s.access, kaibiao::auth::Access::Public);
        assert_eq!(
            op["security"] == serde_json::json!([]),
            public,
            "{} {}",
            s.method,
            s.path
        );
        for param in s.path.split('/').filter(|p| p.starts_with('{')) {
            let name = param.trim_matches(['{', '}']);
            assert!(
                op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["name"] == name),
                "{} lacks {name}",
                s.path
            );
        }
    }
    // Nothing described that is not declared.
    let described: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(described, specs.len());
    let contract = &doc["paths"]["/api/tenders/{id}/contracts"]["post"];
    assert_eq!(
        contract["x-kaibiao-access"],
        serde_json::json!(["purchaser", "supplier"])
    );

    // The readable page is served.
    let page = reqwest::get(app.url("/api.html")).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    match std::process::Command::new("openapi-spec-validator")
        .arg(&file)
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "openapi-spec-validator: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            assert!(
                !in_ci(),
                "CI=true but openapi-spec-validator is missing (pip install -r tests/requirements.txt): {e}"
            );
            eprintln!("skipped: openapi-spec-validator is not installed");
        }
    }
    let _: Value = doc;
}
