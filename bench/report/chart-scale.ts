/** A linear y axis from 0 with round ticks (1, 2, 2.5 or 5 times a power of ten). */

export interface LinearScale {
  /** The axis top, a whole number of steps at or above the largest value. */
  top: number;
  ticks: number[];
  /** A tick's label: "0.5", "12", "12k". */
  label: (value: number) => string;
}

const STEPS = [1, 2, 2.5, 5, 10];

/** About `count` intervals from 0 to at least `max`; an empty or zero axis still spans 0..1. */
export function linearScale(max: number, count = 5): LinearScale {
  const highest = Number.isFinite(max) && max > 0 ? max : 1;
  const rough = highest / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = (STEPS.find((s) => s * power >= rough) ?? 10) * power;
  const intervals = Math.max(1, Math.ceil(highest / step - 1e-9));
  const decimals = decimalPlaces(step);
  const ticks = Array.from({ length: intervals + 1 }, (_, i) => Number((i * step).toFixed(decimals)));
  const thousands = step >= 1000;
  return {
    top: intervals * step,
    ticks,
    label: (value) => (thousands && value !== 0 ? `${Number((value / 1000).toFixed(1))}k` : value.toFixed(decimals)),
  };
}

/** The fewest decimals that write `value` exactly (0.25 → 2, 2.5 → 1, 250 → 0). */
function decimalPlaces(value: number): number {
  for (let places = 0; places < 10; places++) {
    const scaled = value * 10 ** places;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6) return places;
  }
  return 10;
}
