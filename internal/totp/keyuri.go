package totp

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strconv"
	"strings"

	"github.com/boombuler/barcode/qr"
)

// KeyURI builds the enrollment URI in Google's Key URI format:
//
//	otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&algorithm=SHA1&digits=6&period=30
//
// The secret is base32 without padding. Issuer and account are percent-encoded
// except for unreserved characters and '@' (as in Google's examples): a space
// becomes %20 and a colon %3A, so the only literal colon in the label is the
// separator.
func KeyURI(issuer, account string, secret []byte) string {
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	b.WriteString(escape(issuer))
	b.WriteByte(':')
	b.WriteString(escape(account))
	b.WriteString("?secret=")
	b.WriteString(EncodeSecret(secret))
	b.WriteString("&issuer=")
	b.WriteString(escape(issuer))
	b.WriteString("&algorithm=SHA1&digits=")
	b.WriteString(strconv.Itoa(digits))
	b.WriteString("&period=")
	b.WriteString(strconv.Itoa(periodSeconds))
	return b.String()
}

// escape percent-encodes s for the label or a query value. Only RFC 3986
// unreserved characters and '@' are left as they are: a space becomes %20
// (apps may show '+' literally, or read a literal '+' as a space) and ':', '&',
// '=', '+', '/', '?', '#' and '%' are always encoded, so no app can misread
// where the label or a parameter ends.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '@':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
	}
	return b.String()
}

// quietZone is the blank margin, in modules, that the QR code specification
// requires around the symbol; scanners may fail without it.
const quietZone = 4

// QRCodePNG renders uri as a black-on-white PNG QR code of size x size
// pixels, with error correction level M and a 4-module quiet zone. Each module
// is a whole number of pixels; leftover pixels widen the margin. It fails if
// size is too small to give every module at least one pixel.
func QRCodePNG(uri string, size int) ([]byte, error) {
	if size <= 0 {
		return nil, errors.New("totp: QR code size must be positive")
	}
	code, err := qr.Encode(uri, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("totp: encode QR code: %w", err)
	}
	modules := code.Bounds().Dx()
	scale := size / (modules + 2*quietZone)
	if scale < 1 {
		return nil, fmt.Errorf("totp: QR code needs at least %d pixels, got %d", modules+2*quietZone, size)
	}
	offset := (size - modules*scale) / 2

	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	// Index 0 (white) is the zero value, so the image starts blank.
	origin := code.Bounds().Min
	for my := 0; my < modules; my++ {
		for mx := 0; mx < modules; mx++ {
			if !isDark(code.At(origin.X+mx, origin.Y+my)) {
				continue
			}
			x0, y0 := offset+mx*scale, offset+my*scale
			for y := y0; y < y0+scale; y++ {
				row := img.Pix[y*img.Stride:]
				for x := x0; x < x0+scale; x++ {
					row[x] = 1
				}
			}
		}
	}

	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("totp: encode PNG: %w", err)
	}
	return buf.Bytes(), nil
}

func isDark(c color.Color) bool {
	return color.GrayModel.Convert(c).(color.Gray).Y < 0x80
}
