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

    /// <summary>The denoising loop only: the final latents [batch, 4, h/8, w/8] (scaled, as the UNet sees them), or null when skipped.</summary>
    /// <remarks>img2img when <see cref="BatchJob.InitLatentsMoments"/> is set (hires fix's second pass has no init image).</remarks>
    public float[]? Denoise(
        ValidatedRequest request, BatchJob job, IStepProgressSink? progress, Func<bool>? skip,
        RunOptions runOptions, Stopwatch started, CancellationToken cancellationToken)
    {
        var batch = job.Seeds.Count;
        int latentHeight = request.Height / Models.ModelFolder.VaeScale, latentWidth = request.Width / Models.ModelFolder.VaeScale;
        var itemLength = LatentChannels * latentHeight * latentWidth;
        var n = batch * itemLength;
        var guidance = job.Unconditional is not null;
        var cfg = (float)request.Request.CfgScale;

        var scheduler = SchedulerFactory.Create(request.Sampler.Sampler, request.Sampler.ScheduleType, request.Model.SchedulerConfig);
        scheduler.SetTimesteps(request.Request.Steps);
        var begin = 0;
        if (job.InitLatentsMoments is not null)
        {
            begin = ImageToImage.StartIndex(request.Request.Steps, request.Request.Strength, scheduler.Order);
            scheduler.SetBeginIndex(begin);
        }
        var timesteps = scheduler.Timesteps;
        var calls = Math.Max(timesteps.Count - begin, 0);
        var totalSteps = request.Request.Steps - begin / scheduler.Order;
        var generators = job.Seeds.Select(s => new TorchGenerator((ulong)s)).ToArray();

        var latentsArray = ArrayPool<float>.Shared.Rent(n);
        var guidedArray = guidance ? ArrayPool<float>.Shared.Rent(n) : null;
        float[]? pairArray = null;
        try
        {
            var latents = latentsArray.AsSpan(0, n);
            InpaintBlend? inpaint = null;
            if (job.InitLatentsMoments is null)
            {
                for (var i = 0; i < batch; i++)
                    VariationNoise.FillItem(generators[i], job, i, LatentChannels, latentHeight, latentWidth, latents.Slice(i * itemLength, itemLength));
                TensorPrimitives.Multiply(latents, scheduler.InitNoiseSigma, latents);
            }
            else
            {
                inpaint = PrepareImageLatents(job, generators, itemLength, latentHeight, latentWidth, latents, scheduler, begin, calls);
            }

            Model = _base;
            var unet = _base.UNet;
            var conditioning = new UNetConditioning(job, batch);
            void Bind(int step)
            {
                if (conditioning.SeparatePasses) pairArray ??= ArrayPool<float>.Shared.Rent(3 * n);
                else
                {
                    unet.Prepare(guidance ? 2 * batch : batch, LatentChannels, latentHeight, latentWidth, conditioning.Conditional.Tokens, conditioning.Conditional.Hidden, job.Added?.PooledWidth ?? 0);
                    // SDXL's pooled embeddings and time ids change only with the scheduled prompt; FillIfChanged uploads them with the hidden states.
                    conditioning.FillIfChanged(unet, step);
                }
            }
            Bind(0);
            var refiner = job.Refiner;

            var reported = 0;
            for (var j = 0; j < calls; j++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (skip?.Invoke() == true) return null;

                var t = timesteps[begin + j];
                // A1111's denoiser counts steps from 0 for prompt editing; second-order samplers' extra calls keep the step's conditioning.
                var conditioningStep = j / scheduler.Order;
                if (refiner is not null && RefinerHandOff.Reached(t, refiner.SwitchAt))
                {
                    // A1111's apply_refiner: the latents stay as they are; the model and its conditioning change under the sampler.
                    var (refinerModel, refinerConditioning) = refiner.Enter(cancellationToken);
                    refiner = null;
                    Model = refinerModel;
                    unet = refinerModel.UNet;
                    job = job.WithConditioning(refinerConditioning);
                    conditioning = new UNetConditioning(job, batch);
                    Bind(conditioningStep);
                }
                ReadOnlySpan<float> unetOutput;
                try
                {
                    if (pairArray is not null)
                    {
                        var scaled = pairArray.AsSpan(2 * n, n);
                        scheduler.ScaleModelInput(latents, t, scaled);
                        conditioning.RunSeparate(unet, conditioningStep, t, scaled, pairArray.AsSpan(0, 2 * n), LatentChannels, latentHeight, latentWidth, runOptions);
                        unetOutput = pairArray.AsSpan(0, 2 * n);
                    }
                    else
                    {
                        conditioning.FillIfChanged(unet, conditioningStep);
                        var sample = unet.Sample;
                        scheduler.ScaleModelInput(latents, t, sample[..n]);
                        if (guidance) sample[..n].CopyTo(sample[n..]);
                        unet.Run(t, runOptions);
                        unetOutput = unet.Output;
                    }
                }
                catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException("The generation was cancelled during a UNet run.", cancellationToken);
                }

                ReadOnlySpan<float> noisePred;
                if (guidance)
                {
                    var guided = guidedArray.AsSpan(0, n);
                    ClassifierFreeGuidance.Apply(unetOutput, cfg, guided);
                    noisePred = guided;
                }
                else noisePred = unetOutput[..n];
                scheduler.Step(noisePred, t, latents, generators);
                inpaint?.AfterStep(latents, scheduler, begin + j + 1);

                // Heun and other second-order samplers make Order calls per user-visible step; the last call always completes.
                var done = j == calls - 1 ? totalSteps : (j + 1) / scheduler.Order;
                if (done > reported && progress is not null)
                {
                    progress.OnStep(new StepProgress(job.FirstImageIndex, job.BatchIndex, done, totalSteps, t, started.Elapsed,
                        latentsArray.AsMemory(0, n), latentHeight, latentWidth, Model.Previewer));
                }
                reported = Math.Max(reported, done);
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (calls > 0 && skip?.Invoke() == true) return null;
            return latentsArray.AsSpan(0, n).ToArray();
        }
        finally
        {
            ArrayPool<float>.Shared.Return(latentsArray);
            if (guidedArray is not null) ArrayPool<float>.Shared.Return(guidedArray);
            if (pairArray is not null) ArrayPool<float>.Shared.Return(pairArray);
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
