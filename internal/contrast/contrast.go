package contrast

import (
	"fmt"
	"math"
	"strconv"
)

// Minimums of WCAG 2.2 level AA.
const (
	Text = 4.5 // text of normal size (1.4.3)
	UI   = 3.0 // borders and focus rings of controls, large text (1.4.11)
)

// Ratio returns the contrast ratio of two colours written #rrggbb or #rgb, from 1 to 21.
// It returns an error naming the colour that is not in one of those forms.
func Ratio(a, b string) (float64, error) {
	la, err := luminance(a)
	if err != nil {
		return 0, err
	}
	lb, err := luminance(b)
	if err != nil {
		return 0, err
	}
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05), nil
}

// Valid reports whether c is a colour written #rrggbb or #rgb.
func Valid(c string) bool {
	_, err := luminance(c)
	return err == nil
}

// luminance is the relative luminance of a colour, as WCAG defines it.
func luminance(c string) (float64, error) {
	hex := ""
	switch {
	case len(c) == 7 && c[0] == '#':
		hex = c[1:]
	case len(c) == 4 && c[0] == '#':
		hex = string([]byte{c[1], c[1], c[2], c[2], c[3], c[3]})
	default:
		return 0, fmt.Errorf("colour %q is not written #rrggbb", c)
	}
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("colour %q is not written #rrggbb", c)
	}
	channel := func(x uint64) float64 {
		s := float64(x) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*channel(v>>16&0xff) + 0.7152*channel(v>>8&0xff) + 0.0722*channel(v&0xff), nil
}
