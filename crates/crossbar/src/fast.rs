//! Cheap random numbers for the hot paths (pulse noise, write noise, read noise): counter-based
//! SplitMix64 streams and a 256-layer ziggurat for standard normals.
//!
//! A hot path splits its work into fixed chunks (columns of an array, say) and gives each chunk
//! its own stream, keyed by (per-call key, chunk index). The per-call key is one draw from the
//! array's ChaCha8 stream of that purpose, so results depend on the seed and on the order of calls,
//! never on how many threads process the chunks.
//!
//! SplitMix64 (Steele, Lea & Flood, OOPSLA 2014) outputs mix(s₀ + i·γ): it passes BigCrush and
//! costs an add and three multiply-xorshifts per 64 bits. The ziggurat is Marsaglia & Tsang's
//! (J. Stat. Softw. 5(8), 2000) with 256 layers; the layer index and the value come from
//! disjoint bits of one 64-bit word (Doornik 2005 showed that sharing them biases the output), and
//! the tail is sampled with f64 uniforms, so |ξ| never exceeds [`MAX_ABS_NORMAL`].

use std::sync::OnceLock;

/// Golden-ratio increment of SplitMix64 (⌊2⁶⁴/φ⌋, odd).
pub const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function (a bijective 64-bit mixer).
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One step of SplitMix64: advance `state` by the golden-ratio increment and return the mixed
/// state. The one SplitMix64 of the workspace: the hot-path streams here and the seed derivation
/// of `lab::seed` both use it.
#[inline]
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(GAMMA);
    mix(*state)
}

/// A SplitMix64 stream.
#[derive(Clone, Debug)]
pub(crate) struct Fast {
    state: u64,
}

impl Fast {
    /// The stream of chunk `chunk` under the per-call key `key`.
    #[inline]
    pub fn chunk(key: u64, chunk: u64) -> Self {
        Self {
            state: mix(key ^ mix(chunk.wrapping_add(GAMMA))),
        }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        splitmix64(&mut self.state)
    }

    /// A uniform draw in [0, 1) with 24 random bits (every f32 multiple of 2⁻²⁴).
    #[inline]
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }

    /// A uniform draw in (0, 1] with 53 random bits.
    #[inline]
    fn uniform_open0_f64(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// One standard normal draw (ziggurat; about 99 % of draws take one table lookup).
    #[inline]
    pub fn normal(&mut self) -> f32 {
        let t = tables();
        let u = self.next_u64();
        let i = (u & 0xFF) as usize;
        // Bits 32..63 as a signed value; bits 8..31 are unused, bits 0..7 pick the layer.
        let h = (u >> 32) as u32 as i32;
        if h.unsigned_abs() < t.k[i] {
            return (f64::from(h) * t.w[i]) as f32;
        }
        self.normal_slow(h, i)
    }

    #[cold]
    fn normal_slow(&mut self, mut h: i32, mut i: usize) -> f32 {
        let t = tables();
        loop {
            let x = f64::from(h) * t.w[i];
            if i == 0 {
                // The tail beyond r (Marsaglia 1964).
                loop {
                    let e = -self.uniform_open0_f64().ln() / R;
                    let y = -self.uniform_open0_f64().ln();
                    if y + y >= e * e {
                        return (if h > 0 { R + e } else { -R - e }) as f32;
                    }
                }
            }
            let v = t.f[i] + self.uniform_open0_f64() * (t.f[i - 1] - t.f[i]);
            if v < (-0.5 * x * x).exp() {
                return x as f32;
            }
            let u = self.next_u64();
            i = (u & 0xFF) as usize;
            h = (u >> 32) as u32 as i32;
            if h.unsigned_abs() < t.k[i] {
                return (f64::from(h) * t.w[i]) as f32;
            }
        }
    }

    /// Fill `out` with standard normal draws.
    pub fn fill_normal(&mut self, out: &mut [f32]) {
        for v in out.iter_mut() {
            *v = self.normal();
        }
    }
}

/// Start of the ziggurat's tail (256 layers).
const R: f64 = 3.654_152_885_361_009;
/// Area of each layer.
const V: f64 = 0.004_928_673_233_99;

/// The largest |ξ| [`Fast::normal`] can return: the tail draw is r + e with
/// e ≤ −ln(2⁻⁵³)/r, and the layers stay below r.
pub(crate) const MAX_ABS_NORMAL: f32 = 13.75;

/// Ziggurat tables (Marsaglia & Tsang's `zigset` for 256 layers, 31-bit magnitudes).
struct Tables {
    k: [u32; 256],
    w: [f64; 256],
    f: [f64; 256],
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let m1 = 2_147_483_648.0f64;
        let mut t = Tables {
            k: [0; 256],
            w: [0.0; 256],
            f: [0.0; 256],
        };
        let mut dn = R;
        let mut tn = dn;
        let q = V / (-0.5 * dn * dn).exp();
        t.k[0] = ((dn / q) * m1) as u32;
        t.k[1] = 0;
        t.w[0] = q / m1;
        t.w[255] = dn / m1;
        t.f[0] = 1.0;
        t.f[255] = (-0.5 * dn * dn).exp();
        for i in (1..=254).rev() {
            dn = (-2.0 * (V / dn + (-0.5 * dn * dn).exp()).ln()).sqrt();
            t.k[i + 1] = ((dn / tn) * m1) as u32;
            tn = dn;
            t.f[i] = (-0.5 * dn * dn).exp();
            t.w[i] = dn / m1;
        }
        t
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Φ(x) by the complementary error function's continued fraction-free series (Abramowitz &
    /// Stegun 26.2.17 is too coarse; integrate instead).
    fn phi(x: f64) -> f64 {
        // Simpson on [−12, x] of the density: accurate to ~1e-12 with 20 000 intervals.
        let a = -12.0;
        let n = 20_000;
        let h = (x - a) / n as f64;
        let pdf = |t: f64| (-0.5 * t * t).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let mut s = pdf(a) + pdf(x);
        for i in 1..n {
            let t = a + i as f64 * h;
            s += if i % 2 == 1 { 4.0 } else { 2.0 } * pdf(t);
        }
        s * h / 3.0
    }

    #[test]
    fn normals_have_the_standard_moments_and_cdf() {
        let n = 2_000_000usize;
        let mut rng = Fast::chunk(12345, 0);
        let mut xs = vec![0.0f32; n];
        rng.fill_normal(&mut xs);
        let nf = n as f64;
        let mean = xs.iter().map(|&v| f64::from(v)).sum::<f64>() / nf;
        let var = xs
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / nf;
        let m4 = xs.iter().map(|&v| f64::from(v).powi(4)).sum::<f64>() / nf;
        // Standard errors: mean 1/√n, variance √(2/n), fourth moment √(96/n).
        assert!(mean.abs() < 5.0 / nf.sqrt(), "mean {mean}");
        assert!((var - 1.0).abs() < 5.0 * (2.0 / nf).sqrt(), "var {var}");
        assert!((m4 - 3.0).abs() < 5.0 * (96.0 / nf).sqrt(), "m4 {m4}");
        // CDF at points across the body and both tails (the tail sampler included).
        for x in [-4.0, -3.7, -2.5, -1.0, -0.3, 0.0, 0.4, 1.5, 3.0, 3.7, 4.2] {
            let p = phi(x);
            let got = xs.iter().filter(|&&v| f64::from(v) <= x).count() as f64 / nf;
            let se = (p * (1.0 - p) / nf).sqrt();
            assert!((got - p).abs() < 5.0 * se + 1e-9, "Φ({x}) = {p}, got {got}");
        }
        assert!(xs.iter().all(|v| v.abs() <= MAX_ABS_NORMAL));
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Fast::chunk(7, 3).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut s1 = Fast::chunk(7, 3);
        let mut s2 = Fast::chunk(7, 4);
        let mut s3 = Fast::chunk(8, 3);
        let (x1, x2, x3) = (s1.next_u64(), s2.next_u64(), s3.next_u64());
        assert!(x1 != x2 && x1 != x3 && x2 != x3);
    }

    #[test]
    fn uniforms_are_uniform() {
        let n = 1_000_000;
        let mut rng = Fast::chunk(1, 1);
        let mut bins = [0usize; 10];
        for _ in 0..n {
            let u = rng.uniform();
            assert!((0.0..1.0).contains(&u));
            bins[(u * 10.0) as usize] += 1;
        }
        let p = 0.1;
        let se = (n as f64 * p * (1.0 - p)).sqrt();
        for b in bins {
            assert!((b as f64 - n as f64 * p).abs() < 5.0 * se, "{bins:?}");
        }
    }
}
