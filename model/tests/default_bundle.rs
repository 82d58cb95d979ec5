//! The committed default bundle: it verifies, is small, was trained from the committed data
//! (a test fails when the data changed and the bundle was not retrained), and its outputs match
//! the golden file within a tolerance.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup is a failed test

use std::path::PathBuf;

use qingwang_model::bundle::{self, dataset_fingerprint, repo_root};
use qingwang_model::{Classifier, ClassifyOptions, Verdict};

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden.jsonl")
}

#[test]
fn default_bundle_verifies_and_is_small() {
    let dir = bundle::default_dir();
    let m = bundle::verify(&dir).unwrap();
    let total: u64 = m
        .files
        .keys()
        .map(|f| std::fs::metadata(dir.join(f)).unwrap().len())
        .sum();
    assert!(total <= 20 * 1024 * 1024, "default bundle is {total} bytes");
}

#[test]
fn default_bundle_was_trained_from_the_committed_data() {
    let m = bundle::verify(&bundle::default_dir()).unwrap();
    let data: Vec<String> = m
        .dataset_files
        .iter()
        .filter(|f| !bundle::DATASET_SIDE_FILES.contains(&f.as_str()))
        .cloned()
        .collect();
    let (hash, _) = dataset_fingerprint(&repo_root(), &data).unwrap();
    assert_eq!(
        hash, m.dataset_sha256,
        "the data, taxonomy or lexicons changed since the default bundle was trained: run `cargo run --release -- train` and commit model/bundles/default"
    );
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Golden {
    text: String,
    scores: std::collections::BTreeMap<String, f32>,
    verdict: Verdict,
}

const GOLDEN_TEXTS: [&str; 10] = [
    "家人们这个眼镜戴三个月直接摘镜 真的 三二一上链接",
    "经查，当事人在直播中宣称其产品“戴三个月摘镜”，违反了广告法第十六条，已责令改正并罚款。",
    "宝宝们这款助听器戴上听力就能恢复 老人家耳背的赶紧拍",
    "今天下单明天发货 包邮 拍两件送一个收纳盒",
    "医生提醒：近视目前无法治愈，只能通过科学手段延缓进展，别信所谓的摘镜神器。",
    "这个足贴老寒腿贴一周就好 无副作用 无效退款",
    "【官方正品】家用射频美容仪 国械注准20233090001 请仔细阅读产品说明书或者在医务人员的指导下购买和使用",
    "zhi yu 近视 私信我 💊 效果看主页",
    "我们不说治愈哈 只是缓解眼疲劳 大家理性购买",
    "降糖茶喝了血糖就正常了 可以停药 专家都推荐",
];

#[test]
fn default_bundle_matches_the_golden_outputs() {
    let clf = Classifier::load(&bundle::default_dir()).unwrap();
    let opts = ClassifyOptions {
        explain: true,
        ..ClassifyOptions::default()
    };
    let (preds, _) = clf.classify(&GOLDEN_TEXTS, &opts).unwrap();
    let now: Vec<Golden> = GOLDEN_TEXTS
        .iter()
        .zip(preds)
        .map(|(t, p)| {
            let p = p.unwrap();
            Golden {
                text: t.to_string(),
                scores: p.scores.unwrap(),
                verdict: p.verdict,
            }
        })
        .collect();
    if std::env::var_os("QINGWANG_BLESS").is_some() {
        let lines: Vec<String> = now
            .iter()
            .map(|g| serde_json::to_string(g).unwrap())
            .collect();
        std::fs::write(golden_path(), lines.join("\n") + "\n").unwrap();
        return;
    }
    let text = std::fs::read_to_string(golden_path())
        .expect("tests/golden.jsonl exists (QINGWANG_BLESS=1 writes it)");
    let want: Vec<Golden> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(want.len(), now.len());
    for (w, n) in want.iter().zip(&now) {
        assert_eq!(w.text, n.text);
        for (label, ws) in &w.scores {
            let ns = n.scores[label];
            assert!(
                (ws - ns).abs() < 1e-3,
                "{}: {label} was {ws}, now {ns}",
                w.text
            );
        }
    }
}

#[test]
fn default_bundle_gets_the_voice_rule_right_on_plain_cases() {
    let clf = Classifier::load(&bundle::default_dir()).unwrap();
    let (p, _) = clf
        .classify(&GOLDEN_TEXTS, &ClassifyOptions::default())
        .unwrap();
    let v: Vec<bool> = p.into_iter().map(|p| p.unwrap().violation).collect();
    assert!(v[0], "seller's 摘镜 claim");
    assert!(!v[1], "regulator quoting the claim");
    assert!(!v[3], "logistics talk");
    assert!(!v[4], "doctor debunking");
    assert!(v[5], "foot patch cures 老寒腿");
}

#[test]
fn a_text_scores_the_same_alone_and_in_any_batch() {
    let clf = Classifier::load(&bundle::default_dir()).unwrap();
    let opts = ClassifyOptions {
        explain: true,
        ..ClassifyOptions::default()
    };
    let long = "家人们今天这个价格真的是全网最低了 三二一上链接 库存不多 拍完就没有了 老粉丝都知道我们家的东西 不多说了 赶紧拍 包邮到家 七天无理由";
    for text in GOLDEN_TEXTS {
        let (alone, _) = clf.classify(&[text], &opts).unwrap();
        let (mixed, _) = clf.classify(&[long, text, "好"], &opts).unwrap();
        let a = alone[0].as_ref().unwrap();
        let m = mixed[1].as_ref().unwrap();
        assert_eq!(a.verdict, m.verdict, "{text}");
        assert_eq!(a.spans, m.spans, "{text}");
        let (sa, sm) = (a.scores.as_ref().unwrap(), m.scores.as_ref().unwrap());
        for (label, x) in sa {
            assert!(
                (x - sm[label]).abs() < 1e-4,
                "{text}: {label} {x} vs {}",
                sm[label]
            );
        }
    }
}
