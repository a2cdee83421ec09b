#ifndef LANDSCAPE_CONVOLUTION_H
#define LANDSCAPE_CONVOLUTION_H

#include <stddef.h>

// The kernels need AVX-512F (`landscape_has_avx512`) and take multiples of 16 output channels.

/// Output rows `first ..< last` of the convolution of one zero-padded channels-last image by a
/// kernel of `kernelHeight x kernelWidth`: `output[oy][ox][o] = sum over (ky, kx, c) of
/// padded[oy * stride + ky][ox * stride + kx][c] * weight[ky][kx][c][o]`, added in that order from
/// zero, one fused multiply-add per term. `padded` is `[..][paddedWidth][inputs]`; output pixel
/// `(oy, ox)` is at `output + (oy - first) * outputRow + ox * outputPixel` (`outputs * outputWidth`
/// and `outputs` for a plain image). With `accumulate`, the sums are added to `output`.
void landscape_convolve(const float *padded, ptrdiff_t paddedWidth, ptrdiff_t inputs, ptrdiff_t kernelHeight, ptrdiff_t kernelWidth,
                        ptrdiff_t stride, const float *weight, ptrdiff_t outputs, ptrdiff_t first, ptrdiff_t last, ptrdiff_t outputWidth,
                        float *output, ptrdiff_t outputPixel, ptrdiff_t outputRow, int accumulate);

/// The terms of one channels-last image (`[height][width][inputs]`, no border) in the gradient of
/// the convolution's weight, added to `weightGradient` (`[kernel][kernel][inputs][outputs]`): for
/// each `(ky, kx, c, o)`, the sum over the output pixels whose input lies inside the image of
/// `image[oy * stride - padding + ky][ox * stride - padding + kx][c] * gradient[oy][ox][o]`, row by
/// row, where `gradient` is the output gradient, `[outputHeight][outputWidth][outputs]`; `outputs` a
/// multiple of 16.
void landscape_convolution_weight_gradient(const float *image, ptrdiff_t height, ptrdiff_t width, ptrdiff_t inputs,
                                           ptrdiff_t kernel, ptrdiff_t stride, ptrdiff_t padding, const float *gradient,
                                           ptrdiff_t outputs, ptrdiff_t outputHeight, ptrdiff_t outputWidth, float *weightGradient);

/// Whether `landscape_convolution_weight_gradient_by_taps` takes `inputs` channels and a kernel of
/// `kernel x kernel`: 1 to 3 channels by 3x3, or 1 by 5x5.
int landscape_convolution_weighs_by_taps(ptrdiff_t inputs, ptrdiff_t kernel);

/// `landscape_convolution_weight_gradient` for few input channels (`landscape_convolution_weighs_by_taps`),
/// from the image zero-padded (`[..][paddedWidth][inputs]`, the border the convolution's padding):
/// every output pixel's input lies inside it, so each of the `kernel * kernel * inputs` taps sums over
/// all output pixels, the taps side by side.
void landscape_convolution_weight_gradient_by_taps(const float *padded, ptrdiff_t paddedWidth, ptrdiff_t inputs, ptrdiff_t kernel,
                                                   ptrdiff_t stride, const float *gradient, ptrdiff_t outputs,
                                                   ptrdiff_t outputHeight, ptrdiff_t outputWidth, float *weightGradient);

#endif
