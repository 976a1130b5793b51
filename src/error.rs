//! The one error type of the crate: every fallible call returns `Result<T, Error>`.

use lowbit_kernels::DType;

/// Everything that can go wrong in lowbit, one variant per cause.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Shapes or element counts that do not fit together (mismatched K, wrong slice length, zero dims).
    #[error("shape error: {0}")]
    Shape(String),
    /// A dtype the operation does not take.
    #[error("dtype error: {op} does not take {dtype} for {what}")]
    DType {
        /// The operation that refused the dtype.
        op: &'static str,
        /// Which operand was refused (`x`, `w`, ...).
        what: &'static str,
        /// The dtype that was passed.
        dtype: DType,
    },
    /// The adapter lacks a feature the caller asked for explicitly.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A buffer or dispatch larger than the device allows.
    #[error("device limit: {0}")]
    DeviceLimit(String),
    /// No adapter matched the selector, or none exists.
    #[error("adapter: {0}")]
    Adapter(String),
    /// The device could not be created, was lost, or reported a validation or out-of-memory error.
    #[error("device error: {0}")]
    Device(String),
    /// Tensors that live on different contexts (or a GPU tensor passed to the CPU backend).
    #[error("context mismatch: {0}")]
    ContextMismatch(String),
    /// A shader failed to parse or validate (a bug in lowbit, reported rather than panicking).
    #[error("shader {name}: {message}")]
    Shader {
        /// Shader name and variant.
        name: String,
        /// naga's diagnostic.
        message: String,
    },
    /// An invalid argument that is not a shape or dtype (e.g. an unparsable selector).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A GGUF file that is corrupt, truncated or uses what lowbit does not read.
    #[error("GGUF: {0}")]
    Gguf(String),
    /// A safetensors file that is corrupt or truncated, or lacks a tensor an op asked for.
    #[error("safetensors: {0}")]
    Safetensors(String),
}

impl From<lowbit_kernels::KernelError> for Error {
    fn from(e: lowbit_kernels::KernelError) -> Self {
        Error::Shape(e.to_string())
    }
}

/// Shorthand for `Result<T, lowbit::Error>`.
pub type Result<T> = std::result::Result<T, Error>;
