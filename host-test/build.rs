//! Builds the connector component (the workspace's root crate) for
//! `wasm32-wasip2` into its own target directory, the way wasmtime builds its
//! test programs, and hands its path to the code as `KOSHA_COMPONENT_PATH`.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir
        .parent()
        .expect("host-test lives inside the workspace");
    for watched in ["src", "wit", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    require_target();
    // A separate target directory: the outer build holds the lock on ours.
    let target_dir = root.join("target").join("component");
    let status = Command::new(&cargo)
        .args([
            "build",
            "--quiet",
            "--target",
            TARGET,
            "--profile",
            "component",
            "-p",
            "kosha-mastodon",
        ])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // The outer build's flags are for the host, not for wasm.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .expect("could not run cargo to build the component");
    if !status.success() {
        panic!("building the connector component for {TARGET} failed (see the errors above)");
    }
    let wasm = target_dir
        .join(TARGET)
        .join("component")
        .join("kosha_mastodon.wasm");
    assert!(
        wasm.exists(),
        "the component was not produced at {}",
        wasm.display()
    );
    println!("cargo:rustc-env=KOSHA_COMPONENT_PATH={}", wasm.display());
    // A small second component that misbehaves on purpose, for the sandbox tests.
    build_test_guest(&cargo, root, &target_dir);
}

/// Stops with the exact command to run when the wasm target is missing.
fn require_target() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc runs");
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    if !Path::new(&sysroot)
        .join("lib")
        .join("rustlib")
        .join(TARGET)
        .exists()
    {
        panic!(
            "\n\nThe Rust target {TARGET} is not installed. Install it with:\n\n    rustup target add {TARGET}\n\nthen build again.\n"
        );
    }
}

fn build_test_guest(cargo: &str, root: &Path, target_dir: &Path) {
    let manifest = root.join("host-test").join("test-guest").join("Cargo.toml");
    if !manifest.exists() {
        return;
    }
    println!(
        "cargo:rerun-if-changed={}",
        root.join("host-test").join("test-guest").display()
    );
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--target",
            TARGET,
            "--profile",
            "release",
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .expect("could not run cargo to build the test guest");
    assert!(status.success(), "building the test guest failed");
    let wasm = target_dir
        .join(TARGET)
        .join("release")
        .join("test_guest.wasm");
    println!("cargo:rustc-env=KOSHA_TEST_GUEST_PATH={}", wasm.display());
}
