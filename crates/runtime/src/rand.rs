//! `rand`/`srand`: glibc's additive feedback generator (`random_r`,
//! TYPE_3: degree 31, separation 3), so a program sees the same sequence
//! here as on a glibc host. Unseeded, it behaves as after `srand(1)`.

const DEGREE: usize = 31;
const SEPARATION: usize = 3;

/// The generator's whole state; cloning it is the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GlibcRandom {
    table: [u32; DEGREE],
    front: usize,
    rear: usize,
}

impl Default for GlibcRandom {
    fn default() -> Self {
        GlibcRandom::seeded(1)
    }
}

impl GlibcRandom {
    /// The state after `srand(seed)`.
    pub(crate) fn seeded(seed: u32) -> GlibcRandom {
        let seed = if seed == 0 { 1 } else { seed };
        let mut table = [0u32; DEGREE];
        table[0] = seed;
        // table[i] = 16807 * table[i-1] % 2147483647 by Schrage's method,
        // with glibc's types: `word` is an int32_t (so seeds of 2^31 and up
        // start negative), the products are `long`.
        let mut word = seed as i32;
        for slot in table.iter_mut().skip(1) {
            let hi = i64::from(word) / 127_773;
            let lo = i64::from(word) % 127_773;
            let mut next = 16_807 * lo - 2_836 * hi;
            if next < 0 {
                next += 2_147_483_647;
            }
            word = next as i32;
            *slot = word as u32;
        }
        let mut g = GlibcRandom {
            table,
            front: SEPARATION,
            rear: 0,
        };
        for _ in 0..DEGREE * 10 {
            g.next();
        }
        g
    }

    /// The next value in `0..=RAND_MAX` (2147483647).
    pub(crate) fn next(&mut self) -> i32 {
        let val = self.table[self.front].wrapping_add(self.table[self.rear]);
        self.table[self.front] = val;
        self.front += 1;
        self.rear += 1;
        if self.front >= DEGREE {
            self.front = 0;
        } else if self.rear >= DEGREE {
            self.rear = 0;
        }
        (val >> 1) as i32
    }
}
