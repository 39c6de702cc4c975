// The fonts Reelsmith ships (npm packages, all SIL OFL 1.1) and the order in which they are
// asked for a character: text looks the same on every machine because only these (and a
// layer's fontUrl font) ever draw it. Pure data and ordering; fonts.ts reads the files.

export type Script =
  | 'latin'
  | 'emoji'
  | 'arabic'
  | 'hebrew'
  | 'devanagari'
  | 'thai'
  | 'bengali'
  | 'tamil'
  | 'telugu'
  | 'gujarati'
  | 'gurmukhi'
  | 'kannada'
  | 'malayalam'
  | 'sinhala'
  | 'georgian'
  | 'armenian'
  | 'ethiopic'
  | 'khmer'
  | 'lao'
  | 'myanmar'
  | 'tibetan'
  | 'zh-Hans'
  | 'zh-Hant'
  | 'ja'
  | 'ko';

export interface BundledFont {
  script: Script;
  family: string;
  package: string;
  /** The stylesheet (in the package) listing the files for one weight. */
  stylesheet: (weight: number) => string;
  /** Weights shipped: Inter in full; other scripts regular and bold. */
  weights: readonly number[];
}

const fontsource = (script: Script, family: string, weights: readonly number[] = [400, 700]): BundledFont => ({
  script,
  family,
  package: `@fontsource/${family.toLowerCase().replaceAll(' ', '-')}`,
  stylesheet: (weight) => `${weight}.css`,
  weights,
});

export const BUNDLED_FONTS: readonly BundledFont[] = [
  // Latin, Latin Extended, Cyrillic, Greek, Vietnamese
  fontsource('latin', 'Inter', [100, 200, 300, 400, 500, 600, 700, 800, 900]),
  // COLRv1 colour emoji (Skia draws COLRv1; the @fontsource build is SVG-in-OpenType, which it does not)
  {
    script: 'emoji',
    family: 'Noto Color Emoji',
    package: '@infolektuell/noto-color-emoji',
    stylesheet: () => 'index.css',
    weights: [400],
  },
  fontsource('arabic', 'Noto Sans Arabic'),
  fontsource('hebrew', 'Noto Sans Hebrew'),
  fontsource('devanagari', 'Noto Sans Devanagari'),
  fontsource('thai', 'Noto Sans Thai'),
  fontsource('bengali', 'Noto Sans Bengali'),
  fontsource('tamil', 'Noto Sans Tamil'),
  fontsource('telugu', 'Noto Sans Telugu'),
  fontsource('gujarati', 'Noto Sans Gujarati'),
  fontsource('gurmukhi', 'Noto Sans Gurmukhi'),
  fontsource('kannada', 'Noto Sans Kannada'),
  fontsource('malayalam', 'Noto Sans Malayalam'),
  fontsource('sinhala', 'Noto Sans Sinhala'),
  fontsource('georgian', 'Noto Sans Georgian'),
  fontsource('armenian', 'Noto Sans Armenian'),
  fontsource('ethiopic', 'Noto Sans Ethiopic'),
  fontsource('khmer', 'Noto Sans Khmer'),
  fontsource('lao', 'Noto Sans Lao'),
  fontsource('myanmar', 'Noto Sans Myanmar'),
  // no Noto Sans Tibetan is published; the serif is the one Noto Tibetan
  fontsource('tibetan', 'Noto Serif Tibetan'),
  fontsource('zh-Hans', 'Noto Sans SC'),
  fontsource('zh-Hant', 'Noto Sans TC'),
  fontsource('ja', 'Noto Sans JP'),
  fontsource('ko', 'Noto Sans KR'),
];

/** What each bundled font draws, as `doctor` and the README name it. */
const SCRIPT_NAMES: Record<Script, string> = {
  latin: 'Latin, Cyrillic, Greek, Vietnamese',
  emoji: 'colour emoji',
  arabic: 'Arabic',
  hebrew: 'Hebrew',
  devanagari: 'Devanagari',
  thai: 'Thai',
  bengali: 'Bengali',
  tamil: 'Tamil',
  telugu: 'Telugu',
  gujarati: 'Gujarati',
  gurmukhi: 'Gurmukhi',
  kannada: 'Kannada',
  malayalam: 'Malayalam',
  sinhala: 'Sinhala',
  georgian: 'Georgian',
  armenian: 'Armenian',
  ethiopic: 'Ethiopic',
  khmer: 'Khmer',
  lao: 'Lao',
  myanmar: 'Myanmar',
  tibetan: 'Tibetan',
  'zh-Hans': 'Simplified Chinese',
  'zh-Hant': 'Traditional Chinese',
  ja: 'Japanese',
  ko: 'Korean',
};

/** The scripts the bundled fonts draw, in fallback order. */
export const coveredScripts = (): string[] => BUNDLED_FONTS.map((font) => SCRIPT_NAMES[font.script]);

/**
 * The bundled fonts in the order they are asked for a text's characters. Chinese, Japanese and
 * Korean share the Han ideographs but draw them differently; with no language given, kana make
 * a text Japanese, hangul Korean, and otherwise Simplified Chinese forms are used (Traditional
 * Chinese characters SC lacks come from TC).
 */
export function fallbackOrder(text: string): BundledFont[] {
  const han: Script[] = /[\p{Script=Hiragana}\p{Script=Katakana}]/u.test(text)
    ? ['ja', 'zh-Hans', 'zh-Hant', 'ko']
    : /\p{Script=Hangul}/u.test(text)
      ? ['ko', 'zh-Hans', 'zh-Hant', 'ja']
      : ['zh-Hans', 'zh-Hant', 'ja', 'ko'];
  const rank = (font: BundledFont) => {
    const at = han.indexOf(font.script);
    return at < 0 ? BUNDLED_FONTS.indexOf(font) : BUNDLED_FONTS.length + at;
  };
  return [...BUNDLED_FONTS].sort((a, b) => rank(a) - rank(b));
}

/** The shipped weight nearest to the one asked for (the heavier on a tie). */
export function nearestWeight(weights: readonly number[], wanted: number): number {
  return weights.reduce((best, w) => {
    const d = Math.abs(w - wanted) - Math.abs(best - wanted);
    return d < 0 || (d === 0 && w > best) ? w : best;
  });
}
