//! Compiles the Slint screens, with the translations bundled into the binary.

fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations("lang")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None);
    if let Err(e) = slint_build::compile_with_config("ui/app.slint", config) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
