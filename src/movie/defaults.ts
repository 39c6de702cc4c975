// The value of every optional Movie field a user leaves out (the README's table).

export const DEFAULTS = {
  width: 1920,
  height: 1080,
  fps: 30,
  bgColor: '#000000',
  fontSize: 48,
  fontWeight: 'normal',
  /** The font that ships with Reelsmith; any other needs a fontUrl so output is the same everywhere. */
  fontFamily: 'Inter',
  color: '#ffffff',
  textAlign: 'center',
  verticalAlign: 'middle',
  lineHeight: 1.2,
  padding: 0,
  fit: 'fill',
  volume: 1,
  opacity: 1,
} as const;
