//! The face pipeline: decode -> detect (BlazeFace) -> align -> embed (FaceRecognitionNet).
//!
//! The only way in is [`FaceEngine`]. Photos and signatures never leave this module
//! in a form that can be serialised or printed.
