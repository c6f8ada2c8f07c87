// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

// The same allocator as the `folio` CLI: glibc's malloc hands the embedder's large activation
// buffers back to the kernel and page-faults them in again on every layer.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    folio_desktop::run();
}
