//! Property tests: arbitrary Unicode and arbitrary JSON never produce a 5xx or a panic, on
//! /v1/classify and on the Label Studio routes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{app, post, send};
use proptest::prelude::*;
use serde_json::{Value, json};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".*".prop_map(Value::String),
        prop_oneof![
            Just("text"),
            Just("items"),
            Just("id"),
            Just("options"),
            Just("labels"),
            Just("cure_claim")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let key = prop_oneof![
            Just("text".to_string()),
            Just("items".to_string()),
            Just("id".to_string()),
            Just("channel".to_string()),
            Just("options".to_string()),
            Just("labels".to_string()),
            Just("thresholds".to_string()),
            Just("explain".to_string()),
            Just("timeout_ms".to_string()),
            Just("tasks".to_string()),
            Just("data".to_string()),
            Just("label_config".to_string()),
            Just("schema".to_string()),
            Just("action".to_string()),
            ".*",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn status_of(body: Vec<u8>) -> (StatusCode, Value) {
    status_at("/v1/classify", body)
}

fn status_at(path: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (app, _) = app();
        let (s, v, _) = send(&app, post(path, body)).await;
        (s, v)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_unicode_text_never_5xx(text in "\\PC*", id in any::<Option<u32>>()) {
        let (s, v) = status_of(json!({"id": id, "text": text}).to_string().into_bytes());
        prop_assert!(s.as_u16() < 500, "{s} {v}");
        prop_assert!(s == StatusCode::OK || v["error"]["code"].is_string());
    }

    #[test]
    fn arbitrary_json_never_5xx(v in arb_json()) {
        let (s, body) = status_of(v.to_string().into_bytes());
        prop_assert!(s.as_u16() < 500, "{s} {body} for {v}");
    }

    #[test]
    fn arbitrary_bytes_never_5xx(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let (s, _) = status_of(bytes);
        prop_assert!(s.as_u16() < 500);
    }

    #[test]
    fn label_studio_predict_answers_any_text_with_spans_inside_it(
        text in "\\PC*",
        config in prop_oneof![Just(None), "\\PC*".prop_map(Some), Just(Some("<Text value='$text'".to_string()))],
    ) {
        let body = json!({"tasks": [{"id": 1, "data": {"text": text}}], "label_config": config});
        let (s, v) = status_at("/labelstudio/predict", body.to_string().into_bytes());
        prop_assert!(s.as_u16() < 500, "{s} {v}");
        if s == StatusCode::OK {
            let units = text.encode_utf16().count() as u64;
            let rs = v["results"].as_array().unwrap();
            prop_assert_eq!(rs.len(), 1);
            for item in rs[0]["result"].as_array().unwrap() {
                if item["from_name"] == "evidence" {
                    let (a, b) = (item["value"]["start"].as_u64().unwrap(), item["value"]["end"].as_u64().unwrap());
                    prop_assert!(a < b && b <= units, "{item} in {text:?}");
                }
            }
        } else {
            prop_assert!(v["error"]["code"].is_string(), "{v}");
        }
    }

    #[test]
    fn arbitrary_json_on_label_studio_routes_never_5xx(v in arb_json()) {
        for path in ["/labelstudio/setup", "/labelstudio/predict", "/labelstudio/webhook"] {
            let (s, body) = status_at(path, v.to_string().into_bytes());
            prop_assert!(s.as_u16() < 500, "{path}: {s} {body} for {v}");
        }
    }
}
