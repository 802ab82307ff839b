using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Upscaling;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// A1111's hires fix on top of the ordinary pipeline: the first pass as txt2img, its latents upscaled (a "Latent"
/// upscaler interpolates them; any other upscaler decodes, upscales the image and encodes it again), then a second
/// pass that is the pipeline's own img2img over those latents, with the image's seed drawing fresh noise at the new size.
/// </summary>
internal sealed class HiresFix(LoadedModel model, ValidatedRequest request, HiresPlan plan, IImageUpscaler? upscaler,
    Prompts.PromptConditioning conditional, Prompts.PromptConditioning? unconditional, AddedConditioning? added)
{
    /// <summary>An inpainting UNet's conditioning at the second pass's size; null for ordinary UNets.</summary>
    public float[]? ImageConditioning { get; init; }

    public IReadOnlyList<GeneratedImage>? Run(StableDiffusionPipeline pipeline, BatchJob job, IStepProgressSink? progress, Func<bool>? skip,
        RunOptions runOptions, Stopwatch started, CancellationToken cancellationToken)
    {
        var first = pipeline.Denoise(request, job, progress, skip, runOptions, started, cancellationToken);
        if (first is null) return null;

        float[] moments;
        int channels;
        if (plan.IsLatent)
        {
            moments = UpscaleLatents(first, job.Seeds.Count);
            channels = StableDiffusionPipeline.LatentChannels;
        }
        else
        {
            var images = pipeline.Decode(request, job, first, runOptions, cancellationToken);
            try { moments = EncodeUpscaled(images, runOptions, cancellationToken, out channels); }
            finally { foreach (var image in images) image.Image.Dispose(); }
        }

        var second = SecondPass();
        var secondJob = job with
        {
            Conditional = conditional.Schedule[0].States,
            Unconditional = unconditional?.Schedule[0].States,
            Tokens = conditional.Tokens,
            ConditionalSchedule = conditional,
            UnconditionalSchedule = unconditional,
            InitLatentsMoments = moments,
            InitLatentsChannels = channels,
            ImageConditioning = ImageConditioning,
            Added = added,
        };
        cancellationToken.ThrowIfCancellationRequested();
        var latents = pipeline.Denoise(second, secondJob, progress, skip, runOptions, started, cancellationToken);
        return latents is null ? null : pipeline.Decode(second, secondJob, latents, runOptions, cancellationToken);
    }

    /// <summary>
    /// The second pass as an img2img request. A1111 runs exactly the hires steps (its <c>setup_img2img_steps</c> with
    /// steps given): a schedule of steps / strength of which the last ≈ steps are run.
    /// </summary>
    private ValidatedRequest SecondPass()
    {
        var strength = request.Request.Strength;
        var total = strength > 0 ? (int)(plan.Steps / Math.Min(strength, 0.999)) : plan.Steps;
        total = Math.Clamp(total, 1, request.Model.SchedulerConfig.NumTrainTimesteps);
        var r = request.Request;
        var hrRequest = r with
        {
            Steps = total,
            Prompt = string.IsNullOrEmpty(r.HrPrompt) ? r.Prompt : r.HrPrompt,
            NegativePrompt = string.IsNullOrEmpty(r.HrNegativePrompt) ? r.NegativePrompt : r.HrNegativePrompt,
            InitImage = null,
            EnableHr = false,
        };
        return new ValidatedRequest(hrRequest, request.Model, plan.Sampler, plan.Width, plan.Height, null);
    }

    private float[] UpscaleLatents(float[] latents, int batch)
    {
        const int c = StableDiffusionPipeline.LatentChannels;
        int h = request.Height / ModelFolder.VaeScale, w = request.Width / ModelFolder.VaeScale;
        int uh = plan.UpscaleHeight / ModelFolder.VaeScale, uw = plan.UpscaleWidth / ModelFolder.VaeScale;
        int th = plan.Height / ModelFolder.VaeScale, tw = plan.Width / ModelFolder.VaeScale;
        // A1111's truncate: a hires box of another aspect is cut from the middle of the upscaled latents.
        int top = (uh - th) / 2, left = (uw - tw) / 2;
        var mode = LatentInterpolation.ForUpscaler(plan.Upscaler);
        var result = new float[batch * c * th * tw];
        var scaling = model.Folder.ScalingFactor;
        for (var i = 0; i < batch; i++)
        {
            var up = LatentInterpolation.Resize(latents.AsSpan(i * c * h * w, c * h * w), c, h, w, uh, uw, mode);
            for (var ch = 0; ch < c; ch++)
                for (var y = 0; y < th; y++)
                    for (var x = 0; x < tw; x++)
                        // The pipeline scales encoder output by the VAE factor; these latents are scaled already.
                        result[((i * c + ch) * th + y) * tw + x] = up[(ch * uh + top + y) * uw + left + x] / scaling;
        }
        return result;
    }

    private float[] EncodeUpscaled(List<GeneratedImage> images, RunOptions runOptions, CancellationToken cancellationToken, out int channels)
    {
        var parts = new List<float[]>(images.Count);
        channels = 0;
        foreach (var image in images)
        {
            using var upscaled = upscaler!.Upscale(image.Image, plan.UpscaleWidth, plan.UpscaleHeight, cancellationToken);
            using var cropped = upscaled.Width == plan.Width && upscaled.Height == plan.Height
                ? upscaled.Clone()
                : upscaled.Clone(x => x.Crop(new Rectangle((upscaled.Width - plan.Width) / 2, (upscaled.Height - plan.Height) / 2, plan.Width, plan.Height)));
            var pixels = ImageTensors.FromImage(cropped, plan.Width, plan.Height);
            long[] shape = [];
            var encoded = StableDiffusionPipeline.RunCancellable(
                () => model.VaeEncoder!.Encode(pixels, plan.Height, plan.Width, runOptions, out shape), cancellationToken);
            if (shape is not [1, 4 or 8, var lh, var lw] || lh != plan.Height / ModelFolder.VaeScale || lw != plan.Width / ModelFolder.VaeScale)
                throw new NotSupportedException($"vae_encoder: output shape [{string.Join(", ", shape)}]; expected [1, 4 or 8, {plan.Height / 8}, {plan.Width / 8}].");
            channels = (int)shape[1];
            parts.Add(encoded);
        }
        return parts.SelectMany(p => p).ToArray();
    }

    /// <summary>What the images' metadata records, in A1111's terms.</summary>
    public static HiresSettings Settings(GenerationRequest r, Schedulers.SamplerChoice firstPass, HiresPlan plan) => new()
    {
        Scale = r.HrResizeX == 0 && r.HrResizeY == 0 ? r.HrScale : null,
        ResizeWidth = r.HrResizeX == 0 && r.HrResizeY == 0 ? null : r.HrResizeX,
        ResizeHeight = r.HrResizeX == 0 && r.HrResizeY == 0 ? null : r.HrResizeY,
        Steps = r.HrSecondPassSteps > 0 ? r.HrSecondPassSteps : null,
        Upscaler = plan.Upscaler,
        Sampler = plan.Sampler == firstPass ? null : plan.Sampler.Sampler,
        Prompt = string.IsNullOrEmpty(r.HrPrompt) || r.HrPrompt == r.Prompt ? null : r.HrPrompt,
        NegativePrompt = string.IsNullOrEmpty(r.HrNegativePrompt) || r.HrNegativePrompt == r.NegativePrompt ? null : r.HrNegativePrompt,
    };
}
