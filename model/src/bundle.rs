//! The model bundle: a directory that holds everything needed to classify, with a manifest of
//! content hashes.
//!
//! ```text
//! config.json        architecture, labels and products (from the taxonomy), pinyin table, windows
//! model.safetensors  the network's weights
//! tokenizer.json     HF tokenizers WordLevel vocabulary (characters and jieba words)
//! lexicon/           normalisation lexicons and the jieba user dictionary, as trained with
//! thresholds.json    per-label decision thresholds chosen on the dev split
//! linear.json        the linear bag-of-n-grams baseline (weights as sparse lists)
//! metrics.json       measured on dev and test, for the model and both baselines
//! manifest.json      sha256 of every file above, the dataset's hash, the training command
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ModelError, Result};
use crate::network::NetConfig;

/// Bundle format version this build reads and writes.
pub const FORMAT: u32 = 1;
/// Lexicon files copied into every bundle.
pub const LEXICON_FILES: [&str; 4] = [
    "variants.tsv",
    "traditional.tsv",
    "triggers.json",
    "userdict.txt",
];

/// config.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleConfig {
    /// Bundle format version.
    pub format: u32,
    /// Architecture name.
    pub architecture: String,
    /// Network hyper-parameters.
    pub net: NetConfig,
    /// Claim label ids, in output order (the taxonomy's).
    pub labels: Vec<String>,
    /// Product ids, in output order (the taxonomy's); output 0 of the product head is "none".
    pub products: Vec<String>,
    /// Taxonomy version trained with.
    pub taxonomy_version: String,
    /// Pinyin syllables; pinyin id = index + 1.
    pub pinyin: Vec<String>,
    /// Window length in normalised characters.
    pub window: usize,
    /// Window stride for long texts.
    pub stride: usize,
    /// Token probability above which a position is evidence.
    pub span_threshold: f32,
}

/// thresholds.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Per-label decision threshold.
    pub labels: BTreeMap<String, f32>,
    /// A flagged label scoring at least this blocks.
    pub block: f32,
    /// How they were chosen.
    pub chosen_on: String,
    /// Weight of the network in the label probabilities the thresholds apply to; the rest is
    /// the bundle's linear model (`linear.safetensors`). 1 = the network alone (bundles from
    /// before the blend have no field and read as 1).
    #[serde(default = "network_only")]
    pub blend: f32,
    /// The violation gate: a text is a violation only when its highest label probability
    /// reaches it, and then carries its labels at their thresholds or else its top label
    /// ([`crate::decision::gated_flags`]). Absent (bundles before the gate, or when the dev
    /// search preferred none): any label at its threshold flags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<f32>,
}

fn network_only() -> f32 {
    1.0
}

/// manifest.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Short content hash identifying this bundle (from the hashes of its files).
    pub version: String,
    /// sha256 of each file, by path relative to the bundle.
    pub files: BTreeMap<String, String>,
    /// sha256 of the training data and the lexicons/taxonomy it was trained with.
    pub dataset_sha256: String,
    /// The data files that hash covers, relative to the repository.
    pub dataset_files: Vec<String>,
    /// The command that built this bundle.
    pub training_command: String,
}

/// Hex sha256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hash of a set of named inputs (name and content, in the given order).
pub fn hash_inputs<'a>(inputs: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut h = Sha256::new();
    for (name, bytes) in inputs {
        h.update(name.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Read a file of the bundle.
pub fn read(dir: &Path, rel: &str) -> Result<Vec<u8>> {
    let p = dir.join(rel);
    std::fs::read(&p).map_err(|e| ModelError::io(p, e))
}

/// Read and parse a JSON file of the bundle.
pub fn read_json<T: serde::de::DeserializeOwned>(dir: &Path, rel: &str) -> Result<T> {
    let bytes = read(dir, rel)?;
    serde_json::from_slice(&bytes).map_err(|e| ModelError::json(dir.join(rel), e))
}

/// Write a JSON file into the bundle (pretty, trailing newline).
pub fn write_json<T: Serialize>(dir: &Path, rel: &str, value: &T) -> Result<()> {
    let mut s =
        serde_json::to_string_pretty(value).map_err(|e| ModelError::json(dir.join(rel), e))?;
    s.push('\n');
    write(dir, rel, s.as_bytes())
}

/// Write a file into the bundle, creating folders.
pub fn write(dir: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).map_err(|e| ModelError::io(parent, e))?;
    }
    std::fs::write(&p, bytes).map_err(|e| ModelError::io(p, e))
}

/// Every file of a bundle except the manifest, relative and sorted.
pub fn bundle_files(dir: &Path) -> Result<Vec<String>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
        let rd = std::fs::read_dir(dir).map_err(|e| ModelError::io(dir, e))?;
        for entry in rd {
            let entry = entry.map_err(|e| ModelError::io(dir, e))?;
            let p = entry.path();
            if p.is_dir() {
                walk(root, &p, out)?;
            } else if let Ok(rel) = p.strip_prefix(root) {
                let rel = rel.to_string_lossy().replace('\\', "/");
                if rel != "manifest.json" {
                    out.push(rel);
                }
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

/// Hash every file and write manifest.json; returns the manifest.
pub fn write_manifest(
    dir: &Path,
    dataset_sha256: String,
    dataset_files: Vec<String>,
    training_command: String,
) -> Result<Manifest> {
    let mut files = BTreeMap::new();
    for rel in bundle_files(dir)? {
        files.insert(rel.clone(), sha256_hex(&read(dir, &rel)?));
    }
    let version =
        hash_inputs(files.iter().map(|(k, v)| (k.as_str(), v.as_bytes())))[..12].to_string();
    let m = Manifest {
        version,
        files,
        dataset_sha256,
        dataset_files,
        training_command,
    };
    write_json(dir, "manifest.json", &m)?;
    Ok(m)
}

/// Read the manifest and check that every listed file exists with its hash and that no
/// unlisted file is present.
pub fn verify(dir: &Path) -> Result<Manifest> {
    let m: Manifest = read_json(dir, "manifest.json")?;
    for (rel, want) in &m.files {
        let got = sha256_hex(&read(dir, rel)?);
        if &got != want {
            return Err(ModelError::bundle(
                dir,
                format!("{rel}: sha256 {got} differs from the manifest's {want}"),
            ));
        }
    }
    for rel in bundle_files(dir)? {
        if !m.files.contains_key(&rel) {
            return Err(ModelError::bundle(
                dir,
                format!("{rel} is not in the manifest"),
            ));
        }
    }
    Ok(m)
}

/// The repository files a default bundle's dataset hash covers, besides the data files: the
/// taxonomy and the lexicons the bundle copies.
pub const DATASET_SIDE_FILES: [&str; 5] = [
    "datasets/taxonomy.json",
    "datasets/lexicon/variants.tsv",
    "datasets/lexicon/traditional.tsv",
    "datasets/lexicon/triggers.json",
    "datasets/lexicon/userdict.txt",
];

/// Hash of data files (paths relative to `root`, in order) plus [`DATASET_SIDE_FILES`].
/// Returns the hash and the list of files it covers.
pub fn dataset_fingerprint(root: &Path, data_files: &[String]) -> Result<(String, Vec<String>)> {
    let mut files: Vec<String> = data_files.to_vec();
    files.extend(DATASET_SIDE_FILES.iter().map(|s| s.to_string()));
    let mut contents = Vec::new();
    for f in &files {
        let p = root.join(f);
        contents.push(std::fs::read(&p).map_err(|e| ModelError::io(p, e))?);
    }
    let hash = hash_inputs(
        files
            .iter()
            .map(String::as_str)
            .zip(contents.iter().map(Vec::as_slice)),
    );
    Ok((hash, files))
}

/// The repository root (this crate lives in `<repo>/model`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The committed default bundle's directory.
pub fn default_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("bundles")
        .join("default")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_detects_changed_and_extra_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "a.json", b"{}").unwrap();
        write(d, "lexicon/b.tsv", "治愈\n".as_bytes()).unwrap();
        let m = write_manifest(d, "x".into(), vec![], "qingwang train".into()).unwrap();
        assert_eq!(m.files.len(), 2);
        assert_eq!(m.version.len(), 12);
        assert_eq!(verify(d).unwrap(), m);
        write(d, "lexicon/b.tsv", "治疗\n".as_bytes()).unwrap();
        let e = verify(d).unwrap_err().to_string();
        assert!(e.contains("lexicon/b.tsv: sha256"), "{e}");
        write(d, "lexicon/b.tsv", "治愈\n".as_bytes()).unwrap();
        write(d, "extra.txt", b"x").unwrap();
        assert!(
            verify(d)
                .unwrap_err()
                .to_string()
                .contains("extra.txt is not in the manifest")
        );
    }

    #[test]
    fn input_hash_depends_on_names_and_boundaries() {
        let a = hash_inputs([("x", &b"ab"[..]), ("y", &b"c"[..])]);
        let b = hash_inputs([("x", &b"a"[..]), ("y", &b"bc"[..])]);
        let c = hash_inputs([("x", &b"ab"[..]), ("y", &b"c"[..])]);
        assert_ne!(a, b);
        assert_eq!(a, c);
    }
}
