//! placeholder
pub mod normalize;
