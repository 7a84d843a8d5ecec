// Package contrast computes the WCAG contrast ratio of two sRGB colours.
package contrast
