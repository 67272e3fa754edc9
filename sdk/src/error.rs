//! Constructors for [`PluginError`], the error every plugin call can return.
//!
//! The record itself comes from the contract: an optional `field` (a dotted
//! path into the params JSON) and a `message` written for the person who wrote
//! the job spec. The host shows them together, as `corner: expected one of …`.

use crate::PluginError;

impl PluginError {
    /// An error that is about no particular parameter.
    ///
    /// ```
    /// # use framejet_sdk::PluginError;
    /// let err = PluginError::new("the video has no frames");
    /// assert_eq!(err.field, None);
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            field: None,
            message: message.into(),
        }
    }

    /// An error about the parameter at `field`, a dotted path into the params
    /// JSON such as `"corner"` or `"words.2"`.
    ///
    /// ```
    /// # use framejet_sdk::PluginError;
    /// let err = PluginError::invalid("scale", "must be greater than 0, got -1");
    /// assert_eq!(err.field.as_deref(), Some("scale"));
    /// ```
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            message: message.into(),
        }
    }
}
