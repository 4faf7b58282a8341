//! Makes cargo rebuild when the web dashboard changes. Release builds embed `web/dist` (rust-embed
//! reads it at compile time), but cargo only knows to compile again when told which files
//! matter, and a folder that did not exist at the first build is tracked by nobody: a binary
//! built before the dashboard would serve "not built" until some Rust file changed. So the
//! folder is made (empty) when missing and watched as a whole: building the dashboard later,
//! or again, re-embeds it.
use std::path::Path;

fn main() {
    let web = Path::new("../../web");
    let dist = web.join("dist");
    // Only in a checkout of the repository (a packaged crate has no web/ beside it).
    if web.join("package.json").is_file()
        && !dist.exists()
        && std::fs::create_dir_all(&dist).is_ok()
    {
        println!(
            "cargo:warning=web/dist is missing: this build serves no dashboard until \
             scripts/web-build.sh builds it (cargo then embeds it at the next build)"
        );
    }
    println!("cargo:rerun-if-changed=../../web/dist");
    println!("cargo:rerun-if-changed=build.rs");
}
