using System.Buffers;
using System.Diagnostics;
using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Randomness;
using SdBlazor.Engine.Schedulers;

namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// The denoising of one batch, as diffusers' <c>StableDiffusionPipeline</c> / <c>StableDiffusionImg2ImgPipeline</c>
/// <c>__call__</c> do it: seeded initial latents (× <c>init_noise_sigma</c>, or the encoded init image noised with
/// <c>add_noise</c> at the first kept timestep), then per timestep <c>scale_model_input</c> → UNet over
/// [uncond…, cond…] → guidance → <c>step</c>, then VAE decode of <c>latents / scaling_factor</c>.
/// </summary>
public sealed class StableDiffusionPipeline(LoadedModel model)
{
    public const int LatentChannels = 4;

    /// <summary>The model that finished the last <see cref="Denoise"/> (the refiner after a hand-off); <see cref="Decode"/> uses its VAE.</summary>
    public LoadedModel Model { get; private set; } = model;

    private readonly LoadedModel _base = model;

    /// <summary>Runs <paramref name="job"/>; returns <c>null</c> when <paramref name="skip"/> asked to abandon it.</summary>
    /// <param name="started">When the request started (progress reports time elapsed since).</param>
    public IReadOnlyList<GeneratedImage>? Run(
        ValidatedRequest request, BatchJob job, IStepProgressSink? progress, Func<bool>? skip,
        RunOptions runOptions, Stopwatch started, CancellationToken cancellationToken)
    {
        var latents = Denoise(request, job, progress, skip, runOptions, started, cancellationToken);
        return latents is null ? null : Decode(request, job, latents, runOptions, cancellationToken);
    }

    /// <summary>The denoising only: the final latents [batch, 4, h/8, w/8] (scaled, as the UNet sees them), or null when skipped.</summary>
    /// <remarks>
    /// img2img when <see cref="BatchJob.InitLatentsMoments"/> is set (hires fix's second pass has no init image). This
    /// prepares the start latents and the inpainting hook; the steps are <see cref="DenoisingLoop"/>'s.
    /// </remarks>
    public float[]? Denoise(
        ValidatedRequest request, BatchJob job, IStepProgressSink? progress, Func<bool>? skip,
        RunOptions runOptions, Stopwatch started, CancellationToken cancellationToken)
    {
        var batch = job.Seeds.Count;
        int latentHeight = request.Height / Models.ModelFolder.VaeScale, latentWidth = request.Width / Models.ModelFolder.VaeScale;
        var itemLength = LatentChannels * latentHeight * latentWidth;
        var n = batch * itemLength;

        var scheduler = SchedulerFactory.Create(request.Sampler.Sampler, request.Sampler.ScheduleType, request.Model.SchedulerConfig);
        scheduler.SetTimesteps(request.Request.Steps);
        var begin = 0;
        if (job.InitLatentsMoments is not null)
        {
            begin = ImageToImage.StartIndex(request.Request.Steps, request.Request.Strength, scheduler.Order);
            scheduler.SetBeginIndex(begin);
        }
        var calls = Math.Max(scheduler.Timesteps.Count - begin, 0);
        var generators = job.Seeds.Select(s => new TorchGenerator((ulong)s)).ToArray();
        if (_base.UNet.IsInpainting && job.ImageConditioning is null)
            throw new NotSupportedException("unet: an inpainting UNet (9 input channels) needs the image conditioning, but the pipeline prepared none.");

        var latentsArray = ArrayPool<float>.Shared.Rent(n);
        try
        {
            var latents = latentsArray.AsSpan(0, n);
            InpaintBlend? blend = null;
            if (job.InitLatentsMoments is null)
            {
                for (var i = 0; i < batch; i++)
                    VariationNoise.FillItem(generators[i], job, i, LatentChannels, latentHeight, latentWidth, latents.Slice(i * itemLength, itemLength));
                TensorPrimitives.Multiply(latents, scheduler.InitNoiseSigma, latents);
            }
            else
            {
                blend = PrepareImageLatents(job, generators, itemLength, latentHeight, latentWidth, latents, scheduler, begin, calls);
            }
            var hook = InpaintingHook.For(blend, _base.UNet.IsInpainting ? job.ImageConditioning : null);
            var loop = new DenoisingLoop(_base, job, scheduler, begin, request.Request.Steps, (float)request.Request.CfgScale, hook);
            Model = _base;
            var finished = loop.Run(latentsArray, latentHeight, latentWidth, generators, progress, skip, runOptions, started, cancellationToken);
            Model = loop.Model;
            return finished ? latentsArray.AsSpan(0, n).ToArray() : null;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(latentsArray);
        }
    }

    /// <summary>
    /// img2img start latents: per image, sample the encoder's distribution with the image's generator (when it outputs
    /// mean ‖ logvar), scale, then draw that generator's noise and <c>add_noise</c> at the first kept timestep.
    /// With no steps left (strength 0) the clean image latents are decoded as they are.
    /// </summary>
    private InpaintBlend? PrepareImageLatents(BatchJob job, TorchGenerator[] generators, int itemLength, int latentHeight, int latentWidth, Span<float> latents,
        IScheduler scheduler, int begin, int calls)
    {
        var allNoise = job.Inpaint is null ? null : new float[latents.Length];
        var moments = job.InitLatentsMoments!;
        // One encoding shared by the batch (img2img), or one per image (hires fix) laid out one after another.
        var momentsStride = job.InitLatentsChannels * (itemLength / LatentChannels);
        var perImage = moments.Length >= generators.Length * momentsStride && generators.Length > 1;
        var scaling = _base.Folder.ScalingFactor;
        var initLatents = new float[latents.Length];
        var noise = new float[itemLength];
        for (var i = 0; i < generators.Length; i++)
        {
            var item = initLatents.AsSpan(i * itemLength, itemLength);
            var offset = perImage ? i * momentsStride : 0;
            if (job.InitLatentsChannels == 2 * LatentChannels)
            {
                // diffusers DiagonalGaussianDistribution.sample: mean + exp(0.5 · clamp(logvar, −30, 20)) · randn.
                generators[i].FillNormal(item);
                var mean = moments.AsSpan(offset, itemLength);
                var logvar = moments.AsSpan(offset + itemLength, itemLength);
                for (var k = 0; k < itemLength; k++)
                    item[k] = mean[k] + MathF.Exp(0.5f * Math.Clamp(logvar[k], -30f, 20f)) * item[k];
            }
            else moments.AsSpan(offset, itemLength).CopyTo(item);
            TensorPrimitives.Multiply(item, scaling, item);
            if (job.Inpaint is { } mask && job.InpaintingFill is 2 or 3) MaskedContent(job, i, item, mask);

            if (calls > 0)
            {
                VariationNoise.FillItem(generators[i], job, i, LatentChannels, latentHeight, latentWidth, noise);
                if (job.NoiseMultiplier != 1) TensorPrimitives.Multiply(noise, job.NoiseMultiplier, noise);
                if (allNoise is not null) noise.CopyTo(allNoise.AsSpan(i * itemLength, itemLength));
                scheduler.AddNoise(item, noise, scheduler.Timesteps[begin], latents.Slice(i * itemLength, itemLength));
            }
            else item.CopyTo(latents.Slice(i * itemLength, itemLength));
        }
        return job.Inpaint is { } inpaintMask ? new InpaintBlend(initLatents, allNoise!, inpaintMask.Latent, LatentChannels) : null;
    }

    /// <summary>A1111's latent "masked content": 2 replaces the masked latents with the seed's noise, 3 with zeros.</summary>
    private static void MaskedContent(BatchJob job, int item, Span<float> latents, InpaintMask mask)
    {
        var fresh = new float[latents.Length];
        if (job.InpaintingFill == 2) new TorchGenerator((ulong)job.Seeds[item]).FillNormal(fresh);
        for (var k = 0; k < latents.Length; k++)
        {
            var m = mask.Latent[k % mask.Latent.Length];
            latents[k] = latents[k] * (1 - m) + fresh[k] * m;
        }
    }

    /// <summary>VAE decode of <paramref name="latents"/> [batch, 4, h/8, w/8] at the request's size, one image per seed of the job.</summary>
    public List<GeneratedImage> Decode(ValidatedRequest request, BatchJob job, float[] latents, RunOptions runOptions, CancellationToken cancellationToken)
    {
        int latentHeight = request.Height / Models.ModelFolder.VaeScale, latentWidth = request.Width / Models.ModelFolder.VaeScale;
        var itemLength = LatentChannels * latentHeight * latentWidth;
        var images = new List<GeneratedImage>(job.Seeds.Count);
        var scaled = new float[itemLength];
        try
        {
            for (var i = 0; i < job.Seeds.Count; i++)
            {
                TensorPrimitives.Divide(latents.AsSpan(i * itemLength, itemLength), Model.Folder.ScalingFactor, scaled);
                long[] shape = [];
                var pixels = RunCancellable(() => Model.VaeDecoder.Decode(scaled, LatentChannels, latentHeight, latentWidth, runOptions, out shape), cancellationToken);
                if (shape.Length != 4 || shape[1] != 3)
                    throw new NotSupportedException($"vae_decoder: output shape [{string.Join(", ", shape)}]; expected [1, 3, height, width].");
                var image = ImageTensors.ToImage(pixels, (int)shape[2], (int)shape[3]);
                images.Add(new GeneratedImage(job.FirstImageIndex + i, job.Seeds[i], image));
            }
            return images;
        }
        catch
        {
            foreach (var image in images) image.Image.Dispose();
            throw;
        }
    }

    /// <summary>Turns ONNX Runtime's "run terminated" error (RunOptions.Terminate set by cancellation) into a cancellation.</summary>
    internal static T RunCancellable<T>(Func<T> run, CancellationToken cancellationToken)
    {
        try { return run(); }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The generation was cancelled during a model run.", cancellationToken);
        }
    }
}
