using System.Buffers;
using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine.Randomness;
using SdBlazor.Engine.Schedulers;

namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// What a pipeline adds to the shared loop (diffusers keeps one loop per pipeline; A1111 one sampler with a mask
/// blend; we keep one loop and one hook): extra UNet input channels after the latents, written once, and a change to
/// the latents after every scheduler step. Inpainting is the only user so far (<see cref="InpaintingHook"/>).
/// </summary>
public interface IDenoisingHook
{
    /// <summary>Channels appended to each UNet input row after the 4 latent channels (5 for an inpainting UNet; 0 otherwise).</summary>
    int ExtraChannels { get; }

    /// <summary>Writes batch item <paramref name="item"/>'s extra channels [ExtraChannels, h, w]; called once per UNet input row when the buffers are set up.</summary>
    void FillExtraChannels(int item, Span<float> destination);

    /// <summary>After each step; <paramref name="nextIndex"/> indexes the next timestep in <see cref="IScheduler.Timesteps"/> (= the count after the last step).</summary>
    void AfterStep(Span<float> latents, IScheduler scheduler, int nextIndex);
}

/// <summary>
/// The denoising loop every pipeline shares (diffusers' <c>__call__</c> loop, stable-diffusion.cpp's sampler with the
/// model as a callback): per timestep <c>scale_model_input</c> → UNet over [uncond…, cond…] (or the halves separately
/// when their token counts differ) → guidance → <c>step</c> → hook, with progress, skip and cancellation between steps.
/// Nothing latent-sized is allocated per step.
/// </summary>
internal sealed class DenoisingLoop(LoadedModel model, BatchJob job, IScheduler scheduler, int begin, int steps, float cfg, IDenoisingHook? hook)
{
    public const int LatentChannels = StableDiffusionPipeline.LatentChannels;

    /// <summary>The model whose UNet made the last step: the refiner after an SDXL hand-off (its VAE decodes), else the one given.</summary>
    public LoadedModel Model => _current ?? model;

    private LoadedModel? _current;

    /// <summary>Denoises <paramref name="latents"/> [batch, 4, h, w] in place; false when <paramref name="skip"/> asked to abandon the batch.</summary>
    public bool Run(float[] latentsArray, int latentHeight, int latentWidth, TorchGenerator[] generators, IStepProgressSink? progress, Func<bool>? skip,
        RunOptions runOptions, Stopwatch started, CancellationToken cancellationToken)
    {
        var batch = job.Seeds.Count;
        var plane = latentHeight * latentWidth;
        var itemLength = LatentChannels * plane;
        var n = batch * itemLength;
        var guidance = job.Unconditional is not null;
        var timesteps = scheduler.Timesteps;
        var calls = Math.Max(timesteps.Count - begin, 0);
        var totalSteps = steps - begin / scheduler.Order;

        _current = null;
        var unet = model.UNet;
        var extra = hook?.ExtraChannels ?? 0;
        if (unet.InChannels != LatentChannels + extra)
            throw new NotSupportedException($"unet: takes {unet.InChannels} input channels, but the pipeline prepared {LatentChannels + extra}.");
        var rowLength = unet.InChannels * plane;
        var inputLength = batch * rowLength;

        var guidedArray = guidance ? ArrayPool<float>.Shared.Rent(n) : null;
        // Inputs with extra channels are assembled here (rows of [latents, extra]); without them the UNet's own buffer takes the scaled latents.
        var scaledArray = extra > 0 ? ArrayPool<float>.Shared.Rent(n) : null;
        float[]? separateInput = null, separateOutput = null;
        var conditioning = new UNetConditioning(job, batch);
        // Binds the UNet to the conditioning (again after a refiner hand-off); returns where the step's input goes.
        Span<float> Bind(int step)
        {
            if (conditioning.SeparatePasses)
            {
                separateInput ??= ArrayPool<float>.Shared.Rent(inputLength);
                separateOutput ??= ArrayPool<float>.Shared.Rent(2 * n);
                return separateInput.AsSpan(0, inputLength);
            }
            unet.Prepare(guidance ? 2 * batch : batch, LatentChannels, latentHeight, latentWidth, conditioning.Conditional.Tokens, conditioning.Conditional.Hidden, job.Added?.PooledWidth ?? 0);
            // SDXL's pooled embeddings and time ids change only with the scheduled prompt; FillIfChanged uploads them with the hidden states.
            conditioning.FillIfChanged(unet, step);
            return unet.Sample[..inputLength];
        }
        try
        {
            var latents = latentsArray.AsSpan(0, n);
            var input = Bind(0);
            for (var i = 0; extra > 0 && i < batch; i++)
                hook!.FillExtraChannels(i, input.Slice(i * rowLength + itemLength, extra * plane));
            var refiner = job.Refiner;

            var reported = 0;
            for (var j = 0; j < calls; j++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (skip?.Invoke() == true) return false;

                var t = timesteps[begin + j];
                // A1111's denoiser counts steps from 0 for prompt editing; second-order samplers' extra calls keep the step's conditioning.
                var conditioningStep = j / scheduler.Order;
                if (refiner is not null && RefinerHandOff.Reached(t, refiner.SwitchAt))
                {
                    if (extra > 0) throw new NotSupportedException("The SDXL refiner cannot take over from an inpainting UNet.");
                    // A1111's apply_refiner: the latents stay as they are; the model and its conditioning change under the sampler.
                    var (refinerModel, refinerConditioning) = refiner.Enter(cancellationToken);
                    refiner = null;
                    _current = refinerModel;
                    unet = refinerModel.UNet;
                    job = job.WithConditioning(refinerConditioning);
                    conditioning = new UNetConditioning(job, batch);
                    input = Bind(conditioningStep);
                }
                if (scaledArray is null) scheduler.ScaleModelInput(latents, t, input);
                else
                {
                    var scaled = scaledArray.AsSpan(0, n);
                    scheduler.ScaleModelInput(latents, t, scaled);
                    for (var i = 0; i < batch; i++) scaled.Slice(i * itemLength, itemLength).CopyTo(input.Slice(i * rowLength, itemLength));
                }
                ReadOnlySpan<float> unetOutput;
                try
                {
                    if (conditioning.SeparatePasses)
                    {
                        conditioning.RunSeparate(unet, conditioningStep, t, input, separateOutput!.AsSpan(0, 2 * n), LatentChannels, latentHeight, latentWidth, runOptions);
                        unetOutput = separateOutput.AsSpan(0, 2 * n);
                    }
                    else
                    {
                        conditioning.FillIfChanged(unet, conditioningStep);
                        if (guidance) input.CopyTo(unet.Sample[inputLength..]);
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
                hook?.AfterStep(latents, scheduler, begin + j + 1);

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
            return !(calls > 0 && skip?.Invoke() == true);
        }
        finally
        {
            if (guidedArray is not null) ArrayPool<float>.Shared.Return(guidedArray);
            if (scaledArray is not null) ArrayPool<float>.Shared.Return(scaledArray);
            if (separateInput is not null) ArrayPool<float>.Shared.Return(separateInput);
            if (separateOutput is not null) ArrayPool<float>.Shared.Return(separateOutput);
        }
    }
}
