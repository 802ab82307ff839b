using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// The image conditioning of a 9-channel inpainting UNet, as A1111's <c>inpainting_image_conditioning</c> makes it:
/// the mask rounded to 0/1, the image made <c>lerp(image, image·(1 − mask), inpainting_mask_weight)</c> and encoded by
/// the VAE, the mask shrunk to the latent grid by nearest-neighbour sampling (torch's <c>interpolate</c> default);
/// laid out [mask, masked-image latents] = 5 channels, diffusers' order after the 4 latent channels.
/// txt2img conditions on an empty (grey) image under a full mask (A1111's <c>txt2img_image_conditioning</c>); img2img
/// without a mask uses a full mask, so the weight alone decides how much of the image the UNet sees.
/// </summary>
/// <remarks>
/// The encoding uses the VAE distribution's mean where A1111 and diffusers draw a sample from it: the sample's spread
/// is tiny next to the mean for real VAEs, and the mean keeps the image independent of which generator would draw it.
/// </remarks>
public static class InpaintConditioning
{
    public const int Channels = 5;

    /// <param name="pixels">The image as the VAE takes it, [3, height, width] in [−1, 1]; null: txt2img (an empty image).</param>
    /// <param name="mask">Repaint weights [height × width] in 0..1 (rounded here); null: everything is repainted.</param>
    /// <param name="maskWeight">A1111's <c>inpainting_mask_weight</c> ("conditioning mask strength"), 0..1.</param>
    /// <returns>[5, height/8, width/8].</returns>
    public static float[] Create(LoadedModel model, float[]? pixels, float[]? mask, float maskWeight, int width, int height,
        RunOptions runOptions, CancellationToken cancellationToken)
    {
        var encoder = model.VaeEncoder
            ?? throw new GenerationValidationException($"Model '{model.Folder.Name}' is an inpainting model (its UNet takes 9 channels) but has no VAE encoder (vae_encoder/model.onnx) to encode the image it conditions on.");
        var area = width * height;
        var masked = new float[3 * area];
        if (pixels is not null)
        {
            for (var c = 0; c < 3; c++)
            {
                for (var i = 0; i < area; i++)
                {
                    var m = mask is null ? 1f : MathF.Round(mask[i], MidpointRounding.ToEven);
                    masked[c * area + i] = pixels[c * area + i] * (1 - maskWeight * m);
                }
            }
        }
        long[] shape = [];
        var moments = StableDiffusionPipeline.RunCancellable(() => encoder.Encode(masked, height, width, runOptions, out shape), cancellationToken);
        int lh = height / Models.ModelFolder.VaeScale, lw = width / Models.ModelFolder.VaeScale, plane = lh * lw;
        if (shape.Length != 4 || shape[1] is not (4 or 8) || shape[2] != lh || shape[3] != lw)
            throw new NotSupportedException($"vae_encoder: output shape [{string.Join(", ", shape)}]; expected [1, 4 or 8, {lh}, {lw}].");

        var result = new float[Channels * plane];
        for (var y = 0; y < lh; y++)
        {
            for (var x = 0; x < lw; x++)
            {
                var source = y * Models.ModelFolder.VaeScale * width + x * Models.ModelFolder.VaeScale;
                result[y * lw + x] = mask is null ? 1f : MathF.Round(mask[source], MidpointRounding.ToEven);
            }
        }
        TensorPrimitives.Multiply(moments.AsSpan(0, 4 * plane), model.Folder.ScalingFactor, result.AsSpan(plane, 4 * plane));
        return result;
    }
}

/// <summary>
/// Inpainting's part of the shared loop: the 9-channel UNet's conditioning channels and/or the per-step blend that
/// keeps the unmasked area (A1111 blends with both kinds of model; diffusers only with 4-channel ones).
/// </summary>
public sealed class InpaintingHook : IDenoisingHook
{
    private readonly InpaintBlend? _blend;
    private readonly float[]? _conditioning;

    private InpaintingHook(InpaintBlend? blend, float[]? conditioning) => (_blend, _conditioning) = (blend, conditioning);

    public static IDenoisingHook? For(InpaintBlend? blend, float[]? conditioning) =>
        blend is null && conditioning is null ? null : new InpaintingHook(blend, conditioning);

    public int ExtraChannels => _conditioning is null ? 0 : InpaintConditioning.Channels;

    public void FillExtraChannels(int item, Span<float> destination) => _conditioning.AsSpan().CopyTo(destination);

    public void AfterStep(Span<float> latents, Schedulers.IScheduler scheduler, int nextIndex) => _blend?.AfterStep(latents, scheduler, nextIndex);
}
