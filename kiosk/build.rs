//! Compiles the Slint screens, with the translations bundled into the binary.
//!
//! Outside release builds the element debug info is kept: the headless UI
//! tests find elements through it (Slint's ElementHandle API).

fn main() {
    let debug_info = std::env::var("PROFILE").as_deref() != Ok("release");
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations("lang")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        .with_debug_info(debug_info);
    if let Err(e) = slint_build::compile_with_config("ui/app.slint", config) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
