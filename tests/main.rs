//! orgform's one integration-test binary. Each module is one area of behaviour.

mod support;

mod apply;
mod architecture;
mod cli;
mod diagnostics;

mod distrust;
mod docs;
mod export;
mod handed;
mod plan;
mod recipes;
mod robustness;
mod sandbox;
mod schemas;
