//! What a JPEG's structure says before any pixel is decoded: the segments up to EOI, and
//! how many MCUs a baseline file's scan, or a progressive file's first (DC) pass, really
//! codes. Decoders fill a scan that ends
//! early with invented grey, so a file cut short (even with an end marker put back) or a
//! header claiming more pixels than the data holds would otherwise decode "fine".
use std::ops::Range;

/// The file ends before the JPEG's end marker.
#[derive(Debug, PartialEq)]
pub(super) struct Truncated;

/// What walking a JPEG's segments tells before decoding.
#[derive(Debug, PartialEq, Default)]
pub(super) struct Layout {
    /// The first frame header's width and height.
    pub size: Option<(u32, u32)>,
    /// Bytes of entropy-coded data over all scans.
    pub scan_bytes: usize,
    /// The first frame header: its marker code and payload.
    frame: Option<(u8, Range<usize>)>,
    /// Payloads of the Huffman table segments before the first scan.
    huffman_tables: Vec<Range<usize>>,
    /// MCUs between restart markers (0: none), as set before the first scan.
    restart_interval: u16,
    /// Each scan's header payload and entropy-coded data.
    scans: Vec<(Range<usize>, Range<usize>)>,
}

/// Walks a JPEG's marker segments and entropy-coded scans up to EOI. Bytes after EOI (e.g. a
/// phone's motion-photo trailer) are ignored.
pub(super) fn layout(bytes: &[u8]) -> Result<Layout, Truncated> {
    // The next 0xFF at or after `at`.
    let next_ff = |at: usize| -> Result<usize, Truncated> {
        let rest = bytes.get(at..).ok_or(Truncated)?;
        Ok(at + rest.iter().position(|&b| b == 0xFF).ok_or(Truncated)?)
    };
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(Truncated);
    }
    let mut found = Layout::default();
    let mut at = 2;
    loop {
        // A marker: 0xFF, optional 0xFF fill bytes, then its code. Some encoders leave
        // stray bytes between segments; decoders skip them, and so does this walk.
        at = next_ff(at)?;
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let code = *bytes.get(at).ok_or(Truncated)?;
        at += 1;
        match code {
            0xD9 => return Ok(found),
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let len_bytes = bytes.get(at..at + 2).ok_or(Truncated)?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        if len < 2 || at + len > bytes.len() {
            return Err(Truncated);
        }
        let payload = at + 2..at + len;
        let before_first_scan = found.scans.is_empty();
        let is_frame = matches!(code, 0xC0..=0xCF) && !matches!(code, 0xC4 | 0xC8 | 0xCC);
        if is_frame && found.frame.is_none() && len >= 7 {
            let h = u16::from_be_bytes([bytes[at + 3], bytes[at + 4]]);
            let w = u16::from_be_bytes([bytes[at + 5], bytes[at + 6]]);
            found.size = Some((u32::from(w), u32::from(h)));
            found.frame = Some((code, payload.clone()));
        }
        if code == 0xC4 && before_first_scan {
            found.huffman_tables.push(payload.clone());
        }
        if code == 0xDD && before_first_scan && len >= 4 {
            found.restart_interval = u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]);
        }
        at += len;
        if code == 0xDA {
            // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or
            // a restart marker.
            let start = at;
            loop {
                let ff = next_ff(at)?;
                match *bytes.get(ff + 1).ok_or(Truncated)? {
                    0x00 | 0xD0..=0xD7 | 0xFF => at = ff + 1,
                    _ => {
                        at = ff;
                        break;
                    }
                }
            }
            found.scan_bytes += at - start;
            found.scans.push((payload, start..at));
        }
    }
}

/// MCUs coded in full by the scan, and MCUs the frame needs: for a baseline or extended
/// sequential Huffman JPEG with one scan holding every component, that scan; for a
/// progressive Huffman JPEG, its first scan, which must code the DC coefficients of every
/// block of its components (JPEG G.1.1.1.1). None where that cannot be told this way
/// (several sequential scans, a first progressive scan that is not a DC first pass, tables
/// the file does not define, a header that does not parse, corrupt codes); the decoder
/// then has the last word.
pub(super) fn coded_mcus(bytes: &[u8], layout: &Layout) -> Option<(u64, u64)> {
    let (code, frame) = layout.frame.clone()?;
    let progressive = match code {
        0xC0 | 0xC1 if layout.scans.len() == 1 => false,
        0xC2 => true,
        _ => return None,
    };
    let frame = bytes.get(frame)?;
    let height = u64::from(u16::from_be_bytes([*frame.get(1)?, *frame.get(2)?]));
    let width = u64::from(u16::from_be_bytes([*frame.get(3)?, *frame.get(4)?]));
    let count = usize::from(*frame.get(5)?);
    // (component id, horizontal and vertical sampling factors)
    let components: Vec<(u8, u64, u64)> = (0..count)
        .map(|i| {
            let c = frame.get(6 + 3 * i..9 + 3 * i)?;
            Some((c[0], u64::from(c[1] >> 4), u64::from(c[1] & 15)))
        })
        .collect::<Option<_>>()?;
    if width == 0 || height == 0 || components.iter().any(|&(_, h, v)| h == 0 || v == 0) {
        return None;
    }
    let h_max = components.iter().map(|c| c.1).max()?;
    let v_max = components.iter().map(|c| c.2).max()?;

    let mut dc: [Option<Huffman>; 4] = Default::default();
    let mut ac: [Option<Huffman>; 4] = Default::default();
    for segment in &layout.huffman_tables {
        let mut rest = bytes.get(segment.clone())?;
        while !rest.is_empty() {
            let (class, id) = (rest[0] >> 4, usize::from(rest[0] & 15));
            let counts = rest.get(1..17)?;
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            let values = rest.get(17..17 + total)?;
            let table = Huffman::new(counts, values)?;
            match class {
                0 => *dc.get_mut(id)? = Some(table),
                1 => *ac.get_mut(id)? = Some(table),
                _ => return None,
            }
            rest = &rest[17 + total..];
        }
    }

    let (header, data) = layout.scans.first()?;
    let header = bytes.get(header.clone())?;
    let in_scan = usize::from(*header.first()?);
    if in_scan == 0 || (!progressive && in_scan != components.len()) {
        return None;
    }
    if progressive {
        // Spectral selection and successive approximation after the selectors: a DC first
        // pass is Ss = Se = 0 with no earlier bits (Ah = 0).
        let pass = header.get(1 + 2 * in_scan..4 + 2 * in_scan)?;
        if pass[0] != 0 || pass[1] != 0 || pass[2] >> 4 != 0 {
            return None;
        }
    }
    // Per block of an MCU, its DC table and, in a sequential scan, its AC table.
    let mut blocks: Vec<(&Huffman, Option<&Huffman>)> = Vec::new();
    let mut first = None;
    for i in 0..in_scan {
        let selector = header.get(1 + 2 * i..3 + 2 * i)?;
        let &(_, h, v) = components.iter().find(|c| c.0 == selector[0])?;
        first.get_or_insert((h, v));
        let dc_table = dc.get(usize::from(selector[1] >> 4))?.as_ref()?;
        let ac_table = if progressive {
            None
        } else {
            Some(ac.get(usize::from(selector[1] & 15))?.as_ref()?)
        };
        // One component alone is not interleaved: one block per MCU.
        let per_mcu = if in_scan == 1 { 1 } else { h * v };
        blocks.extend((0..per_mcu).map(|_| (dc_table, ac_table)));
    }
    let needed = if in_scan == 1 {
        let (h, v) = first?;
        (width * h).div_ceil(h_max).div_ceil(8) * (height * v).div_ceil(v_max).div_ceil(8)
    } else {
        width.div_ceil(8 * h_max) * height.div_ceil(8 * v_max)
    };

    let restart = u64::from(layout.restart_interval);
    let mut bits = Bits::new(bytes.get(data.clone())?);
    let mut coded = 0u64;
    while coded < needed {
        if restart > 0 && coded > 0 && coded.is_multiple_of(restart) && !bits.restart() {
            break;
        }
        let complete = blocks.iter().all(|(dc, ac)| match ac {
            Some(ac) => bits.block(dc, ac),
            None => bits.dc_only(dc),
        });
        if bits.overrun() {
            break;
        }
        if !complete {
            // A code no table holds, with data left: corrupt, not short. The decoder judges.
            return None;
        }
        coded += 1;
    }
    Some((coded, needed))
}

/// A Huffman table for walking codes: a 9-bit lookup for short codes, canonical limits
/// (JPEG F.2.2.3) for the rest.
struct Huffman {
    /// (code length << 8 | value) by the next 9 bits; 0 for longer codes.
    fast: Vec<u16>,
    /// For an AC table: (coefficients advanced << 4 | bits taken) by the next 9 bits, where
    /// a nonzero coefficient's code and magnitude bits both fit in them; else 0.
    fast_ac: Vec<u16>,
    max_code: [i32; 17],
    first_index: [i32; 17],
    first_code: [i32; 17],
    values: Vec<u8>,
}

const FAST_BITS: u32 = 9;

impl Huffman {
    fn new(counts: &[u8], values: &[u8]) -> Option<Huffman> {
        let mut table = Huffman {
            fast: vec![0; 1 << FAST_BITS],
            fast_ac: vec![0; 1 << FAST_BITS],
            max_code: [-1; 17],
            first_index: [0; 17],
            first_code: [0; 17],
            values: values.to_vec(),
        };
        let (mut code, mut index) = (0i32, 0i32);
        for length in 1..=16u32 {
            let n = i32::from(counts[length as usize - 1]);
            table.first_index[length as usize] = index;
            table.first_code[length as usize] = code;
            if n > 0 {
                table.max_code[length as usize] = code + n - 1;
            }
            if length <= FAST_BITS {
                for k in 0..n {
                    let value = u16::from(*values.get((index + k) as usize)?);
                    let start = ((code + k) as usize) << (FAST_BITS - length);
                    let span = 1usize << (FAST_BITS - length);
                    table
                        .fast
                        .get_mut(start..start + span)?
                        .fill((length as u16) << 8 | value);
                }
            }
            code += n;
            index += n;
            // More codes of this length than there are bit patterns: not a valid table.
            if code > 1 << length {
                return None;
            }
            code <<= 1;
        }
        for (bits, entry) in table.fast.iter().enumerate() {
            let (length, rs) = (u32::from(entry >> 8), entry & 0xFF);
            let (run, size) = (rs >> 4, u32::from(rs & 15));
            if length > 0 && size > 0 && length + size <= FAST_BITS {
                table.fast_ac[bits] = (run + 1) << 4 | (length + size) as u16;
            }
        }
        Some(table)
    }
}

/// Reads the entropy-coded bits of a scan, with stuffed zero bytes removed. At a marker or
/// the end, it feeds zero bits and remembers that data ran out.
struct Bits<'a> {
    data: &'a [u8],
    at: usize,
    buffer: u64,
    held: u32,
    /// Bits taken from the buffer, and real data bits put into it, since the last restart.
    used: u64,
    real: u64,
    /// A marker (or the end) was reached.
    stopped: bool,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Bits<'a> {
        Bits {
            data,
            at: 0,
            buffer: 0,
            held: 0,
            used: 0,
            real: 0,
            stopped: false,
        }
    }

    fn fill(&mut self) {
        if self.held > 56 {
            return;
        }
        // Whole bytes at once while none is 0xFF (stuffing or a marker): the common case.
        if let Some(chunk) = self.data.get(self.at..self.at + 8) {
            let word = u64::from_be_bytes(chunk.try_into().unwrap_or([0xFF; 8]));
            // A byte of `word` is 0xFF exactly where a byte of !word is zero.
            let inverted = !word;
            let has_ff =
                inverted.wrapping_sub(0x0101_0101_0101_0101) & !inverted & 0x8080_8080_8080_8080;
            if has_ff == 0 {
                let take = (64 - self.held) / 8;
                let bytes = word >> (64 - 8 * take);
                self.buffer |= bytes << (64 - self.held - 8 * take);
                self.held += 8 * take;
                self.at += take as usize;
                self.real += u64::from(8 * take);
                return;
            }
        }
        while self.held <= 56 {
            let mut byte = 0;
            if !self.stopped {
                match (self.data.get(self.at), self.data.get(self.at + 1)) {
                    (Some(0xFF), Some(0x00)) => {
                        byte = 0xFF;
                        self.at += 2;
                    }
                    (Some(0xFF), _) | (None, _) => self.stopped = true,
                    (Some(&b), _) => {
                        byte = b;
                        self.at += 1;
                    }
                }
                if !self.stopped {
                    self.real += 8;
                }
            }
            self.buffer |= u64::from(byte) << (56 - self.held);
            self.held += 8;
        }
    }

    /// The next `n` bits; `fill` first.
    fn look(&self, n: u32) -> u32 {
        (self.buffer >> (64 - n)) as u32
    }

    /// Takes `n` bits; `fill` first (one fill holds a code and its magnitude bits: <= 32).
    fn take(&mut self, n: u32) {
        self.buffer <<= n;
        self.held -= n;
        self.used += u64::from(n);
    }

    /// Data bits ran out: a code was read from the zeros fed after a marker or the end.
    fn overrun(&self) -> bool {
        self.used > self.real
    }

    /// Decodes one code; `fill` first.
    fn symbol(&mut self, table: &Huffman) -> Option<u8> {
        let fast = table.fast[self.look(FAST_BITS) as usize];
        if fast != 0 {
            self.take(u32::from(fast >> 8));
            return Some(fast as u8);
        }
        let bits = self.look(16) as i32;
        for length in FAST_BITS + 1..=16 {
            let code = bits >> (16 - length);
            if code <= table.max_code[length as usize] {
                self.take(length);
                let index =
                    table.first_index[length as usize] + code - table.first_code[length as usize];
                return table.values.get(index as usize).copied();
            }
        }
        None
    }

    /// Walks one block's DC difference in a progressive DC first pass; false on a code no
    /// table holds.
    fn dc_only(&mut self, dc: &Huffman) -> bool {
        self.fill();
        match self.symbol(dc) {
            Some(size) if size <= 16 => {
                self.take(u32::from(size));
                true
            }
            _ => false,
        }
    }

    /// Walks one 8x8 block's codes; false on a code no table holds.
    fn block(&mut self, dc: &Huffman, ac: &Huffman) -> bool {
        self.fill();
        let Some(size) = self.symbol(dc) else {
            return false;
        };
        if size > 16 {
            return false;
        }
        self.take(u32::from(size));
        let mut k = 1;
        while k < 64 {
            self.fill();
            // Most AC codes and their magnitude bits fit the 9-bit lookahead together.
            let both = ac.fast_ac[self.look(FAST_BITS) as usize];
            if both != 0 {
                self.take(u32::from(both & 15));
                k += u32::from(both >> 4);
                continue;
            }
            let Some(rs) = self.symbol(ac) else {
                return false;
            };
            let (run, size) = (u32::from(rs >> 4), u32::from(rs & 15));
            if size == 0 {
                if run != 15 {
                    break; // end of block
                }
                k += 16;
            } else {
                k += run + 1;
                self.take(size);
            }
        }
        k <= 64
    }

    /// Moves past the restart marker that should follow; false if the data ends instead.
    fn restart(&mut self) -> bool {
        // Bits left of the last byte are padding; encoders may leave junk before the marker.
        while let Some(&b) = self.data.get(self.at) {
            if b == 0xFF && self.data.get(self.at + 1) != Some(&0x00) {
                break;
            }
            self.at += if b == 0xFF { 2 } else { 1 };
        }
        // A marker may be preceded by any number of 0xFF fill bytes.
        while self.data.get(self.at..self.at + 2) == Some(&[0xFF, 0xFF][..]) {
            self.at += 1;
        }
        match self.data.get(self.at..self.at + 2) {
            Some([0xFF, 0xD0..=0xD7]) => {
                self.at += 2;
                self.buffer = 0;
                self.held = 0;
                self.used = 0;
                self.real = 0;
                self.stopped = false;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::RgbImage;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 5) as u8, ((x * y) % 251) as u8])
        });
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&img)
            .unwrap_or_else(|e| panic!("encode: {e}"));
        out
    }

    #[test]
    fn layout_reads_the_frame_size_and_counts_scan_data() {
        let file = jpeg(64, 48);
        let found = layout(&file).unwrap_or_else(|_| panic!("complete JPEG"));
        assert_eq!(found.size, Some((64, 48)));
        assert!(found.scan_bytes > 0 && found.scan_bytes < file.len());
        assert_eq!(found.scans.len(), 1);
    }

    #[test]
    fn a_whole_scan_codes_every_mcu_and_a_cut_one_fewer() {
        for (w, h) in [(64, 48), (65, 49), (8, 8), (300, 7)] {
            let file = jpeg(w, h);
            let found = layout(&file).unwrap_or_else(|_| panic!("complete JPEG"));
            let (coded, needed) =
                coded_mcus(&file, &found).unwrap_or_else(|| panic!("{w}x{h}: baseline"));
            assert_eq!(coded, needed, "{w}x{h}");
            // The image crate writes 4:4:4 (one 8x8 MCU per block position).
            assert_eq!(needed, u64::from(w.div_ceil(8) * h.div_ceil(8)), "{w}x{h}");
        }
        let cut = cut_scan(&jpeg(64, 48), 0.5);
        let found = layout(&cut).unwrap_or_else(|_| panic!("ends with EOI"));
        let (coded, needed) = coded_mcus(&cut, &found).unwrap_or_else(|| panic!("baseline"));
        assert!(coded > 0 && coded < needed, "{coded} of {needed}");
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/jpeg")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The file with its scan cut to `keep` of its data bytes, and an end marker put back.
    fn cut_scan(file: &[u8], keep: f64) -> Vec<u8> {
        let found = layout(file).unwrap_or_else(|_| panic!("complete JPEG"));
        let scan = found.scans[0].1.clone();
        let mut cut = file[..scan.start + (scan.len() as f64 * keep) as usize].to_vec();
        cut.extend_from_slice(&[0xFF, 0xD9]);
        cut
    }

    /// The fixture's (first) scan codes all `needed` MCUs, and cut to 90, 50 or 10 % of its
    /// data (an end marker put back) fewer.
    fn codes_all_and_a_cut_fewer(name: &str, needed: u64) {
        let file = fixture(name);
        let found = layout(&file).unwrap_or_else(|_| panic!("{name}: complete"));
        assert_eq!(coded_mcus(&file, &found), Some((needed, needed)), "{name}");
        for keep in [0.9, 0.5, 0.1] {
            let cut = cut_scan(&file, keep);
            let found = layout(&cut).unwrap_or_else(|_| panic!("{name}: ends with EOI"));
            let (coded, _) = coded_mcus(&cut, &found).unwrap_or_else(|| panic!("{name} at {keep}"));
            assert!(coded < needed, "{name} cut to {keep}: {coded} of {needed}");
        }
    }

    #[test]
    fn libjpeg_layouts_with_subsampling_and_restart_markers() {
        // 100x75 (tests/fixtures/jpeg/make.py): MCUs of 16x16, 16x8 and 8x8 pixels.
        for (name, needed) in [
            ("420_restart.jpg", 7 * 5),
            ("422_restart_rows.jpg", 7 * 10),
            ("444.jpg", 13 * 10),
            ("grey_restart.jpg", 13 * 10),
        ] {
            codes_all_and_a_cut_fewer(name, needed);
        }
        // Fill bytes before each restart marker are legal, and change nothing.
        let file = fixture("420_restart.jpg");
        let mut filled = Vec::new();
        let scan = layout(&file).unwrap_or_else(|_| panic!("complete")).scans[0]
            .1
            .clone();
        for (i, &b) in file.iter().enumerate() {
            if scan.contains(&i) && b == 0xFF && matches!(file.get(i + 1), Some(0xD0..=0xD7)) {
                filled.extend_from_slice(&[0xFF, 0xFF]);
            }
            filled.push(b);
        }
        assert!(filled.len() > file.len(), "fill bytes were added");
        let found = layout(&filled).unwrap_or_else(|_| panic!("filled: complete"));
        assert_eq!(coded_mcus(&filled, &found), Some((35, 35)));
    }

    #[test]
    fn a_progressive_first_pass_codes_every_block_and_a_cut_one_fewer() {
        // 4:2:0 interleaved DC pass (35 MCUs of 16x16), and a greyscale one with restart
        // markers (one block per MCU, 13x10).
        for (name, needed) in [
            ("progressive.jpg", 7 * 5),
            ("progressive_grey_restart.jpg", 13 * 10),
        ] {
            let found = layout(&fixture(name)).unwrap_or_else(|_| panic!("{name}: complete"));
            assert!(found.scans.len() > 1, "{name}: several scans");
            codes_all_and_a_cut_fewer(name, needed);
        }
    }

    #[test]
    fn every_jpeg_in_the_shared_data_codes_all_its_mcus() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
        if !root.is_dir() {
            eprintln!(
                "skipped: {} is absent (real photos from many encoders)",
                root.display()
            );
            return;
        }
        let mut stack = vec![root];
        let (mut walked, mut bytes) = (0, 0);
        let started = std::time::Instant::now();
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}"));
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "jpg") {
                    let file = std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
                    let found = layout(&file).unwrap_or_else(|_| panic!("{path:?}: complete"));
                    if let Some((coded, needed)) = coded_mcus(&file, &found) {
                        assert_eq!(coded, needed, "{path:?}");
                        walked += 1;
                        bytes += file.len();
                    }
                }
            }
        }
        assert!(walked > 1000, "only {walked} baseline JPEGs found");
        eprintln!(
            "{walked} JPEGs ({} MB) walked in {:.2} s",
            bytes >> 20,
            started.elapsed().as_secs_f64()
        );
    }

    #[test]
    fn tables_that_cannot_be_codes_are_refused() {
        // Three codes of length 1.
        let mut counts = [0u8; 16];
        counts[0] = 3;
        assert!(Huffman::new(&counts, &[1, 2, 3]).is_none());
        // Values missing.
        counts[0] = 2;
        assert!(Huffman::new(&counts, &[1]).is_none());
    }
}
