// Browser mouse buttons to X11 button numbers (docs/protocol.md, pointer.button).

// MouseEvent.buttons bit -> X button: 1 left, 2 right, 4 middle, 8 back, 16 forward.
export const BUTTON_BITS: ReadonlyArray<readonly [number, number]> = [
  [1, 1],
  [4, 2],
  [2, 3],
  [8, 8],
  [16, 9],
];

/** MouseEvent.button (0 left, 1 middle, 2 right, 3 back, 4 forward) -> X button. */
export function xButtonFromDomButton(button: number): number | null {
  switch (button) {
    case 0:
      return 1;
    case 1:
      return 2;
    case 2:
      return 3;
    case 3:
      return 8;
    case 4:
      return 9;
    default:
      return null;
  }
}

/** MouseEvent.button -> its bit in MouseEvent.buttons. */
export function bitFromDomButton(button: number): number {
  switch (button) {
    case 0:
      return 1;
    case 1:
      return 4;
    case 2:
      return 2;
    case 3:
      return 8;
    case 4:
      return 16;
    default:
      return 0;
  }
}
