//! Settings parsed from text once, when the configuration is read: a value
//! of such a type is valid by construction, and the file keeps its text.

/// Serde through the type's text: `FromStr` to read (the error names what
/// is wrong), `Display` to write.
macro_rules! serde_as_text {
    ($ty:ty) => {
        impl TryFrom<String> for $ty {
            type Error = String;
            fn try_from(text: String) -> Result<Self, String> {
                text.parse().map_err(|e| format!("{e}"))
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.to_string()
            }
        }
    };
}
pub(crate) use serde_as_text;
