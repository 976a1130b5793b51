//! A model file's bytes for the readers (GGUF, safetensors): memory-mapped from a path, or an
//! image already in memory.

use std::path::Path;

/// Where a reader's bytes live.
pub(crate) enum FileBytes {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl FileBytes {
    /// Maps the file at `path` read-only; an error message names the path.
    pub(crate) fn map(path: &Path) -> Result<Self, String> {
        let file =
            std::fs::File::open(path).map_err(|e| format!("opening {}: {e}", path.display()))?;
        // SAFETY: the map is read-only and private to the reader that holds it; lowbit never
        // writes the file. Another process truncating it while mapped is outside what a reader
        // can defend against (as for every mmap-based reader).
        let map = unsafe { memmap2::Mmap::map(&file) }
            .map_err(|e| format!("mapping {}: {e}", path.display()))?;
        Ok(FileBytes::Map(map))
    }

    /// The bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            FileBytes::Map(m) => m,
            FileBytes::Owned(v) => v,
        }
    }
}
