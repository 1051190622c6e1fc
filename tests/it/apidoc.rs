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

    // The bodies a route declares are what it answers: each live answer validates against
    // its schema in the description (jsonschema, draft 2020-12, as OpenAPI 3.1 has it).
    let declared: Vec<&str> = specs
        .iter()
        .filter(|s| s.response.is_some())
        .map(|s| s.path)
        .collect();
    assert!(declared.len() >= 4, "{declared:?}");
    for (user, path) in [
        ("finance", "/api/analytics"),
        ("oversight", "/api/console"),
        ("purchaser", "/api/alerts"),
        ("purchaser", "/api/alerts/count"),
    ] {
        assert!(declared.contains(&path), "{path} declares its body");
        let (status, body) = app.login(user).await.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        // The body's schema where the description has it, as a JSON pointer.
        let pointer = format!(
            "/paths/{}/get/responses/200/content/application~1json/schema",
            path.replace('~', "~0").replace('/', "~1")
        );
        assert!(doc.pointer(&pointer).is_some(), "{pointer}");
        let errors = body_errors(&doc, &pointer, &body);
        assert!(errors.is_empty(), "{path}: {errors:?}");
        // And a body that is not the type is refused: the check can fail.
        if path == "/api/analytics" {
            let mut wrong = body.clone();
            wrong["figures"]["budget"]["paid_fen"] = serde_json::json!("lots");
            assert!(!body_errors(&doc, &pointer, &wrong).is_empty());
        }
    }
}

/// The errors of `body` against the schema at `pointer` in `doc`, as jsonschema finds
/// them; none when jsonschema is missing outside CI.
fn body_errors(doc: &Value, pointer: &str, body: &Value) -> Vec<String> {
    const CHECK: &str = "import json, sys\n\
        from jsonschema import Draft202012Validator\n\
        from referencing import Registry, Resource\n\
        from referencing.jsonschema import DRAFT202012\n\
        doc, body = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))\n\
        registry = Registry().with_resource('urn:kaibiao:api', Resource.from_contents(doc, default_specification=DRAFT202012))\n\
        v = Draft202012Validator({'$ref': 'urn:kaibiao:api#' + sys.argv[3]}, registry=registry)\n\
        print(json.dumps([f'{list(e.path)}: {e.message}' for e in v.iter_errors(body)]))";
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<std::path::PathBuf> = [("doc", doc.to_string()), ("body", body.to_string())]
        .into_iter()
        .map(|(name, text)| {
            let file = dir.path().join(format!("{name}.json"));
            std::fs::write(&file, text).unwrap();
            file
        })
        .collect();
    match std::process::Command::new("python3")
        .args(["-c", CHECK])
        .args(&files)
        .arg(pointer)
        .output()
    {
        Ok(out) if out.status.success() => serde_json::from_slice(&out.stdout).unwrap(),
        other => {
            assert!(
                !in_ci(),
                "CI=true but jsonschema cannot check the bodies (pip install -r tests/requirements.txt): {other:?}"
            );
            eprintln!("skipped: jsonschema is not installed");
            Vec::new()
        }
    }
}
