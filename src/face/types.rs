use zeroize::Zeroize;

/// Length of the identity embedding (FaceRecognitionNet output, L2-normalised).
pub const IDENTITY_DIM: usize = 128;
/// Length of the appearance features (conv128 stage pooled 4x4), used to match rocks.
pub const APPEARANCE_DIM: usize = 2048;

/// Uploaded image bytes. Zeroed on drop; no Serialize, and Debug prints only the length.
pub struct Photo(Vec<u8>);

impl Photo {
    pub fn new(bytes: Vec<u8>) -> Self {
        Photo(bytes)
    }
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Photo {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for Photo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Photo({} bytes)", self.0.len())
    }
}

/// What the engine knows of one face: identity embedding and appearance features.
/// Zeroed on drop; no Serialize, no Clone, and Debug prints nothing of the values.
pub struct FaceSignature {
    pub(crate) identity: Vec<f32>,
    pub(crate) appearance: Vec<f32>,
}

impl FaceSignature {
    /// L2-normalised identity embedding, IDENTITY_DIM long.
    pub fn identity(&self) -> &[f32] {
        &self.identity
    }
    /// L2-normalised appearance features (human domain, multi-view), APPEARANCE_DIM long.
    pub fn appearance(&self) -> &[f32] {
        &self.appearance
    }
}

impl Drop for FaceSignature {
    fn drop(&mut self) {
        self.identity.zeroize();
        self.appearance.zeroize();
    }
}

impl std::fmt::Debug for FaceSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FaceSignature(..)")
    }
}

/// One detected face, in source-image pixels (after EXIF orientation).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Detection {
    /// [x_min, y_min, x_max, y_max]
    pub bbox: [f32; 4],
    pub score: f32,
    /// Right-eye-in-image-left, eye on image right, nose tip, mouth centre, ear left, ear right; (x, y).
    pub keypoints: [[f32; 2]; 6],
}

impl Detection {
    /// The same face in an image resized by `factor` (e.g. a downscaled copy).
    pub fn scaled(&self, factor: f32) -> Detection {
        Detection {
            bbox: self.bbox.map(|v| v * factor),
            score: self.score,
            keypoints: self.keypoints.map(|[x, y]| [x * factor, y * factor]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Detection;

    #[test]
    fn a_scaled_detection_moves_box_and_keypoints_but_keeps_its_score() {
        let mut keypoints = [[0.0; 2]; 6];
        keypoints[0] = [130.0, 140.0];
        keypoints[5] = [190.0, 60.0];
        let face = Detection {
            bbox: [100.0, 50.0, 200.0, 250.0],
            score: 0.9,
            keypoints,
        };
        let half = face.scaled(0.5);
        assert_eq!(half.bbox, [50.0, 25.0, 100.0, 125.0]);
        assert_eq!(half.keypoints[0], [65.0, 70.0]);
        assert_eq!(half.keypoints[5], [95.0, 30.0]);
        assert_eq!(half.score, 0.9);
    }
}
