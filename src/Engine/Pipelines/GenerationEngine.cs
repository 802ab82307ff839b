using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Loras;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Models.Sources;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Prompts;
using SdBlazor.Engine.Tokenization;
using SdBlazor.Shared;
using SixLabors.ImageSharp.Processing;

namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// <see cref="IGenerationEngine"/> on ONNX Runtime: validates, loads the model's sessions lazily (one model resident
/// at a time; released on refresh or when another model is asked for), encodes the prompts once per request and runs
/// each batch through <see cref="StableDiffusionPipeline"/>. One generation at a time per engine.
/// </summary>
public sealed class GenerationEngine : IGenerationEngine, IDisposable
{
    public const string RngName = "CPU";

    private readonly ModelRegistry _registry;
    private readonly SessionFactory _sessions;
    private readonly RequestValidator _validator;
    private readonly ILogger<GenerationEngine> _logger;
    private readonly bool _useTaesd;
    private readonly FixedShapes _fixedUNetShapes;
    private readonly bool _warmUp;
    private readonly LoraVariants _loras;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly object _modelLock = new();
    private LoadedModel? _loaded;
    private bool _releaseAfterRun;

    private readonly Upscaling.IUpscalerCatalog _upscalers;
    private readonly Upscaling.UpscalerCatalog? _ownedUpscalers;

    public GenerationEngine(ModelRegistry registry, SessionFactory sessions, IOptions<EngineOptions> options, ILogger<GenerationEngine> logger,
        Upscaling.IUpscalerCatalog? upscalers = null)
    {
        _ownedUpscalers = upscalers is null ? new Upscaling.UpscalerCatalog(options, sessions) : null;
        _upscalers = upscalers ?? _ownedUpscalers!;
        _registry = registry;
        _sessions = sessions;
        _validator = new RequestValidator(registry);
        _logger = logger;
        _useTaesd = options.Value.UseTaesdPreviews;
        _fixedUNetShapes = options.Value.FixedUNetShapes;
        _warmUp = options.Value.WarmUpOnLoad;
        _loras = new LoraVariants(options.Value.ResolveLoraPath(), registry.Checkpoints.CachePath, logger);
    }

    public static string EngineVersion { get; } =
        typeof(GenerationEngine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The model whose sessions are loaded now (tests and the benchmark look inside).</summary>
    internal LoadedModel? Resident
    {
        get { lock (_modelLock) return _loaded; }
    }

    /// <summary>Name of the model whose sessions are loaded now, or null (status displays; the preload test).</summary>
    public string? ResidentModelName => Resident?.Folder.Name;

    public IReadOnlyList<ModelDescriptor> ListModels() => _registry.List();

    public void RefreshModels()
    {
        _registry.Refresh();
        // Sessions in use by a running generation are released when it ends.
        if (_gate.Wait(0))
        {
            try { Unload(); }
            finally { _gate.Release(); }
        }
        else _releaseAfterRun = true;
    }

    /// <summary>Releases the resident model's sessions (they load again on the next generation).</summary>
    public void Unload()
    {
        lock (_modelLock) ReleaseLoaded();
    }

    private void ReleaseLoaded()
    {
        if (_loaded is null) return;
        _loaded.Dispose();
        _loaded = null;
        NativeHeap.Trim();
    }

    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, IStepProgressSink? progress,
        CancellationToken cancellationToken, Func<bool>? skipImage = null, int imagesPerUNetBatch = 0)
    {
        await PrepareCheckpointAsync(string.IsNullOrWhiteSpace(request?.Model) ? _registry.DefaultModel : request.Model, progress, cancellationToken).ConfigureAwait(false);
        if (request?.RefinerCheckpoint is { Length: > 0 } refiner && !refiner.Trim().Equals("None", StringComparison.OrdinalIgnoreCase))
            await PrepareCheckpointAsync(refiner.Trim(), progress, cancellationToken).ConfigureAwait(false);
        var validated = _validator.Validate(request!);
        try
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            validated.Dispose();
            throw;
        }
        try
        {
            // The whole run is CPU-bound native work: keep it off the caller's thread.
            return await Task.Run(() => Generate(validated, progress, skipImage, imagesPerUNetBatch, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            validated.Dispose();
            if (_releaseAfterRun)
            {
                _releaseAfterRun = false;
                Unload();
            }
            _gate.Release();
        }
    }

    private GenerationResult Generate(ValidatedRequest validated, IStepProgressSink? progress, Func<bool>? skipImage, int imagesPerUNetBatch, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        var request = validated.Request;
        var seed = request.Seed == -1 ? RandomSeed() : request.Seed;
        var subseed = request.Subseed == -1 ? RandomSeed() : request.Subseed;
        var variation = new Randomness.VariationSettings(request.SubseedStrength, request.SeedResizeFromWidth, request.SeedResizeFromHeight);
        var upscaler = validated.Hires is { IsLatent: false } plan ? FindUpscaler(plan, validated.Model) : null;
        // A1111: extra-network tags leave the prompt before it is encoded; the infotext keeps them.
        var warnings = new List<string>();
        var (promptText, tags) = LoraTags.Extract(request.Prompt, warnings);
        var (negativeText, negativeTags) = LoraTags.Extract(request.NegativePrompt, warnings);
        if (negativeTags.Count > 0)
            warnings.Add($"LoRA tags in the negative prompt ({string.Join(", ", negativeTags.Select(t => t.Name))}) were removed from it and not applied.");
        var baseFolder = WithLoras(validated.Model, tags, warnings, cancellationToken);
        var model = GetOrLoad(baseFolder);
        var sha256 = _registry.Sha256(validated.Model);
        foreach (var warning in warnings) _logger.LogWarning("{Model}: {Warning}", validated.Model.Name, warning);
        var encoded = request with { Prompt = promptText, NegativePrompt = negativeText };

        using var runOptions = new RunOptions();
        // Aborts an in-flight ONNX run; the pipeline turns the resulting error into OperationCanceledException.
        using var abort = cancellationToken.Register(() => runOptions.Terminate = true);

        var guidance = ClassifierFreeGuidance.IsEnabled(request.CfgScale);
        // At CFG ≤ 1 the UNet runs once per step on the prompt alone (diffusers' do_classifier_free_guidance), so a
        // negative prompt has nothing to act on: say so rather than ignore it silently.
        if (!guidance && !string.IsNullOrWhiteSpace(request.NegativePrompt))
        {
            warnings.Add($"CFG scale {request.CfgScale:0.##} turns classifier-free guidance off: the negative prompt was ignored.");
            _logger.LogInformation("Negative prompt ignored at CFG scale {Cfg}", request.CfgScale);
        }
        PromptConditioning conditional;
        PromptConditioning? unconditional;
        SdxlConditioning? sdxl = null;
        if (model.IsSdxl)
        {
            if (request.ClipSkip > 1) warnings.Add($"Clip skip {request.ClipSkip} does not apply to SDXL models (they are conditioned on both encoders' penultimate layers, as in A1111).");
            sdxl = new StableDiffusionXLPipeline(model).Encode(encoded.Prompt, encoded.NegativePrompt, request.Steps, TextConditioning.Options(request),
                guidance, validated.Width, validated.Height, runOptions, _logger, cancellationToken);
            (conditional, unconditional) = (sdxl.Conditional, sdxl.Unconditional);
        }
        else (conditional, unconditional) = TextConditioning.Encode(model, encoded, guidance, runOptions, _logger, cancellationToken);
        var added = sdxl?.Added;

        float[]? moments = null;
        var momentsChannels = 0;
        if (validated.InitImage is { } init)
        {
            float[] pixels;
            if (validated.Inpaint is { } fillMask && request.InpaintingFill == 0)
            {
                using var resized = init.Clone(x => x.Resize(validated.Width, validated.Height, KnownResamplers.Lanczos3));
                using var filled = Inpainting.Fill(resized, fillMask);
                pixels = ImageTensors.FromImage(filled, validated.Width, validated.Height);
            }
            else pixels = ImageTensors.FromImage(init, validated.Width, validated.Height);
            long[] shape = [];
            moments = StableDiffusionPipeline.RunCancellable(
                () => model.VaeEncoder!.Encode(pixels, validated.Height, validated.Width, runOptions, out shape), cancellationToken);
            var expectedChannels = shape.Length == 4 ? shape[1] : 0;
            if (expectedChannels is not (StableDiffusionPipeline.LatentChannels or 2 * StableDiffusionPipeline.LatentChannels)
                || shape[2] != validated.Height / ModelFolder.VaeScale || shape[3] != validated.Width / ModelFolder.VaeScale)
                throw new NotSupportedException($"vae_encoder: output shape [{string.Join(", ", shape)}]; expected [1, 4 or 8, {validated.Height / 8}, {validated.Width / 8}].");
            momentsChannels = (int)expectedChannels;
        }

        var pipeline = new StableDiffusionPipeline(model);
        // The refiner replaces the base model in memory (one model resident, as A1111 swaps weights); each batch starts on
        // the base again. Its conditioning is encoded once, when it first takes over.
        SdxlConditioning? refinerConditioning = null;
        string? refinerUsed = null;
        var handOff = validated.Refiner is { } refinerFolder ? new RefinerHandOff(request.RefinerSwitchAt, ct =>
        {
            var refinerModel = GetOrLoad(refinerFolder);
            refinerConditioning ??= new StableDiffusionXLPipeline(refinerModel).Encode(encoded.Prompt, encoded.NegativePrompt, request.Steps,
                TextConditioning.Options(request), guidance, validated.Width, validated.Height, runOptions, _logger, ct);
            refinerUsed = ShortTitle(refinerFolder);
            return (refinerModel, refinerConditioning);
        }) : null;
        HiresFix? hires = null;
        AddedConditioning? hrAdded = null;
        if (validated.Hires is { } hiresPlan)
        {
            // The second pass's own prompts, encoded only when they differ.
            // Its LoRA tags are those of the first pass (the model is loaded once): they only leave the text here.
            var hrPrompt = string.IsNullOrEmpty(request.HrPrompt) ? promptText : LoraTags.Extract(request.HrPrompt, []).Text;
            var hrNegative = string.IsNullOrEmpty(request.HrNegativePrompt) ? negativeText : LoraTags.Extract(request.HrNegativePrompt, []).Text;
            var samePrompts = hrPrompt == promptText && hrNegative == negativeText;
            var hrRequest = encoded with { Prompt = hrPrompt, NegativePrompt = hrNegative };
            PromptConditioning hrConditional;
            PromptConditioning? hrUnconditional;
            if (sdxl is not null)
            {
                // A1111's calculate_hr_conds: the second pass is conditioned at its own size (original = target = hires size).
                var hr = samePrompts
                    ? sdxl.AtSize(hiresPlan.Width, hiresPlan.Height)
                    : new StableDiffusionXLPipeline(model).Encode(hrPrompt, hrNegative, request.Steps, TextConditioning.Options(request), guidance,
                        hiresPlan.Width, hiresPlan.Height, runOptions, _logger, cancellationToken);
                (hrConditional, hrUnconditional, hrAdded) = (hr.Conditional, hr.Unconditional, hr.Added);
            }
            else (hrConditional, hrUnconditional) = samePrompts
                ? (conditional, unconditional)
                : TextConditioning.Encode(model, hrRequest, guidance, runOptions, _logger, cancellationToken);
            hires = new HiresFix(model, validated, hiresPlan, upscaler, hrConditional, hrUnconditional, hrAdded);
        }
        var images = new List<GeneratedImage>();
        try
        {
            // Each image draws its noise from its own generator (seed + index), so a batch split into parts gives the same images.
            var part = imagesPerUNetBatch is > 0 ? Math.Min(imagesPerUNetBatch, request.BatchSize) : request.BatchSize;
            for (var b = 0; b < request.BatchCount; b++)
            {
                for (var offset = 0; offset < request.BatchSize; offset += part)
                {
                    var first = b * request.BatchSize + offset;
                    var seeds = Enumerable.Range(first, Math.Min(part, request.BatchSize - offset)).Select(i => seed + i).ToArray();
                    var job = new BatchJob(b, first, seeds, conditional.Schedule[0].States, unconditional?.Schedule[0].States,
                        conditional.Tokens, conditional.Hidden, moments, momentsChannels)
                    {
                        ConditionalSchedule = conditional,
                        UnconditionalSchedule = unconditional,
                        Subseeds = seeds.Select(s => subseed + (s - seed)).ToArray(),
                        Variation = variation.IsActive ? variation : null,
                        Inpaint = validated.Inpaint,
                        InpaintingFill = request.InpaintingFill,
                        NoiseMultiplier = (float)request.InitialNoiseMultiplier,
                        Added = added,
                        Refiner = handOff,
                    };
                    if (handOff is not null) pipeline = new StableDiffusionPipeline(GetOrLoad(baseFolder));
                    var batchImages = hires is null
                        ? pipeline.Run(validated, job, progress, skipImage, runOptions, started, cancellationToken)
                        : hires.Run(pipeline, job, progress, skipImage, runOptions, started, cancellationToken);
                    if (batchImages is null) _logger.LogInformation("Batch {Batch} (images from {First}) skipped on request", b, first);
                    else
                    {
                        if (validated.Inpaint is { } overlay)
                            foreach (var image in batchImages) Inpainting.Overlay(image.Image, validated.InitImage!, overlay);
                        images.AddRange(batchImages);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (images.Count > 0)
        {
            // As in A1111, cancelling a batch keeps the images that were already finished.
            _logger.LogInformation("Cancelled after {Count} finished image(s)", images.Count);
            throw new GenerationCancelledException(new GenerationResult(images, Resolve()));
        }
        catch
        {
            foreach (var image in images) image.Image.Dispose();
            throw;
        }

        _logger.LogInformation("Generated {Count} image(s) with {Model} in {Duration:F1} s", images.Count, validated.Model.Name, started.Elapsed.TotalSeconds);
        return new GenerationResult(images, Resolve());

        ResolvedParameters Resolve() => new(
            request.Prompt, request.NegativePrompt ?? "", validated.Model.Name, sha256,
            validated.Sampler.Sampler, validated.Sampler.ScheduleType, request.Steps, request.CfgScale, seed,
            validated.Width, validated.Height, request.BatchSize, request.BatchCount,
            validated.IsImg2Img || validated.Hires is not null ? request.Strength : null,
            validated.Model.SchedulerConfigJson, RngName, EngineVersion, model.ExecutionProvider, started.Elapsed)
        {
            Warnings = warnings,
            ClipSkip = request.ClipSkip,
            Emphasis = EmphasisModes.Name(EmphasisModes.TryParse(request.Emphasis, out var emphasis) ? emphasis : EmphasisMode.Original),
            Subseed = subseed,
            Variation = variation.IsActive ? variation : null,
            Hires = validated.Hires is { } used ? HiresFix.Settings(request, validated.Sampler, used) : null,
            MaskBlur = validated.Inpaint is null ? null : request.MaskBlur,
            Refiner = refinerUsed,
            RefinerSwitchAt = refinerUsed is null ? null : request.RefinerSwitchAt,
            NoiseMultiplier = validated.IsImg2Img && request.InitialNoiseMultiplier != 1 ? request.InitialNoiseMultiplier : null,
        };
    }

    /// <summary>
    /// The folder to load for <paramref name="folder"/> with the prompt's LoRAs: itself when none applies, else the merged
    /// variant (merged now on first use, from the cache after). Problems become warnings; the image is made regardless.
    /// </summary>
    private ModelFolder WithLoras(ModelFolder folder, IReadOnlyList<LoraTag> tags, List<string> warnings, CancellationToken cancellationToken)
    {
        if (tags.Count == 0) return folder;
        var loras = _loras.Resolve(tags, warnings);
        if (loras.Count == 0) return folder;
        var names = string.Join(", ", loras.Select(l => l.Name));
        if (_registry.FindCheckpoint(folder.Name)?.Layout is not { } layout)
        {
            warnings.Add($"Model '{folder.Name}' is a diffusers-ONNX folder without a weight manifest: LoRAs are applied only to single-file checkpoints so far; the image was made without {names}.");
            return folder;
        }
        var clock = Stopwatch.StartNew();
        try
        {
            var variant = _loras.Prepare(folder, layout, loras, warnings, cancellationToken);
            _logger.LogInformation("LoRA set {Loras} for {Model} ready in {Duration:F2} s", names, folder.Name, clock.Elapsed.TotalSeconds);
            return variant;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CheckpointException or ModelFolderException)
        {
            warnings.Add($"LoRA(s) {names} could not be merged into '{folder.Name}' ({ex.Message}); the image was made without them.");
            return folder;
        }
    }

    /// <summary>
    /// A single-file model is converted (first use) or its cached conversion checked before the request is validated
    /// against it. Under the generation gate: a conversion needs the memory and disk bandwidth a generation would use.
    /// A checkpoint that cannot be used fails as bad input, naming the model.
    /// </summary>
    private async Task PrepareCheckpointAsync(string name, IStepProgressSink? progress, CancellationToken cancellationToken)
    {
        if (_registry.FindCheckpoint(name) is not { } entry) return;
        if (entry.Error is not null) throw new GenerationValidationException(entry.Error);
        if (_registry.TryGet(name, out _)) return;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var phases = progress is null ? null : new PhaseReporter(progress);
            await Task.Run(() =>
            {
                var clock = Stopwatch.StartNew();
                try
                {
                    _registry.Prepare(entry, phases, cancellationToken);
                }
                catch (CheckpointException ex)
                {
                    throw new GenerationValidationException(ex.Message);
                }
                _logger.LogInformation("Checkpoint {Model} ready in {Duration:F1} s", name, clock.Elapsed.TotalSeconds);
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Reports synchronously on the converting thread (an <see cref="Progress{T}"/> would post to a context that may not exist).</summary>
    private sealed class PhaseReporter(IStepProgressSink sink) : IProgress<ConversionProgress>
    {
        public void Report(ConversionProgress value) => sink.OnPhase(value.Phase, value.Done, value.Total);
    }

    /// <summary>
    /// Loads <paramref name="modelName"/> (the default model when null) now rather than at the first request and, when
    /// <see cref="EngineOptions.WarmUpOnLoad"/> is set, runs the text encoder and one UNet call at the model's native size
    /// with the CFG batch. Waits for a running generation. A model that is already resident is neither reloaded nor warmed again.
    /// </summary>
    /// <param name="warmUpSize">Pixels (square) to warm up at; null: the model's native size, the usual request.</param>
    /// <exception cref="ArgumentException">No such model.</exception>
    /// <exception cref="ModelFolderException">The folder is incomplete or a file is corrupt.</exception>
    public async Task<PreloadTimings> PreloadAsync(string? modelName = null, int? warmUpSize = null, CancellationToken cancellationToken = default)
    {
        var name = string.IsNullOrWhiteSpace(modelName) ? _registry.DefaultModel : modelName;
        if (_registry.FindCheckpoint(name) is not null)
        {
            try
            {
                await PrepareCheckpointAsync(name, null, cancellationToken).ConfigureAwait(false);
            }
            catch (GenerationValidationException ex)
            {
                throw new ArgumentException(ex.Message, nameof(modelName), ex);
            }
        }
        if (!_registry.TryGet(name, out var folder))
            throw new ArgumentException($"Unknown model '{name}' in {_registry.ModelsPath}.", nameof(modelName));
        if (warmUpSize is { } px && (px < ModelFolder.VaeScale || px % ModelFolder.VaeScale != 0))
            throw new ArgumentOutOfRangeException(nameof(warmUpSize), px, $"The warm-up size must be a positive multiple of {ModelFolder.VaeScale} pixels.");
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Task.Run(() =>
            {
                if (Resident is { } resident && resident.Folder.Path == folder.Path) return new PreloadTimings(TimeSpan.Zero, TimeSpan.Zero, false);
                var clock = Stopwatch.StartNew();
                var model = GetOrLoad(folder);
                var load = clock.Elapsed;
                if (!_warmUp) return new PreloadTimings(load, TimeSpan.Zero, true);
                clock.Restart();
                WarmUp(model, warmUpSize ?? model.Folder.NativeWidth, warmUpSize ?? model.Folder.NativeHeight, cancellationToken);
                _logger.LogInformation("Model {Model} warmed up in {Duration:F1} s", folder.Name, clock.Elapsed.TotalSeconds);
                return new PreloadTimings(load, clock.Elapsed, true);
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// One text encoder run and one UNet run at <paramref name="width"/>×<paramref name="height"/> with the CFG batch (2, or the model's fixed batch): ONNX
    /// Runtime grows its arena and touches its weights on the first run of each shape, so doing it here takes that cost
    /// off the first image. The UNet buffers it prepares are the ones the first generation of that size reuses.
    /// </summary>
    private static void WarmUp(LoadedModel model, int width, int height, CancellationToken cancellationToken)
    {
        using var runOptions = new RunOptions();
        using var abort = cancellationToken.Register(() => runOptions.Terminate = true);
        var embeddings = EncodePrompts(model, "", null, false, width, height, runOptions, cancellationToken);
        var states = embeddings.Conditional;

        var unet = model.UNet;
        var batch = unet.FixedBatch ?? 2;
        unet.Prepare(batch, StableDiffusionPipeline.LatentChannels, height / ModelFolder.VaeScale, width / ModelFolder.VaeScale,
            embeddings.Tokens, embeddings.Hidden, embeddings.Added?.PooledWidth ?? 0);
        unet.Sample.Clear();
        for (var b = 0; b < batch; b++) states.CopyTo(unet.EncoderHiddenStates.Slice(b * states.Length, states.Length));
        embeddings.Added?.Fill(unet.TextEmbeds, unet.TimeIds, batch);
        unet.UploadHiddenStates();
        StableDiffusionPipeline.RunCancellable(() =>
        {
            unet.Run(model.Folder.SchedulerConfig.NumTrainTimesteps - 1, runOptions);
            return true;
        }, cancellationToken);
    }

    /// <summary>The request's text conditioning for the model's family (SDXL: both encoders and the added conditioning).</summary>
    private static PromptEmbeddings EncodePrompts(LoadedModel model, string prompt, string? negativePrompt, bool guidance, int width, int height,
        RunOptions runOptions, CancellationToken cancellationToken)
    {
        if (model.IsSdxl)
        {
            var sdxl = new StableDiffusionXLPipeline(model).Encode(prompt, negativePrompt, 1, PromptOptions.Default, guidance, width, height,
                runOptions, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, cancellationToken);
            return new PromptEmbeddings(sdxl.Conditional.Schedule[0].States, sdxl.Unconditional?.Schedule[0].States, sdxl.Conditional.Tokens,
                sdxl.Conditional.Hidden, sdxl.Added);
        }
        var conditional = EncodePrompt(model, prompt, runOptions, cancellationToken, out var hidden);
        var unconditional = guidance ? EncodePrompt(model, negativePrompt ?? "", runOptions, cancellationToken, out _) : null;
        return new PromptEmbeddings(conditional, unconditional, ClipTokenizer.ContextLength, hidden, null);
    }

    private static float[] EncodePrompt(LoadedModel model, string prompt, RunOptions runOptions, CancellationToken cancellationToken, out int hidden)
    {
        var ids = model.Tokenizer.Encode(prompt);
        var width = 0;
        var states = StableDiffusionPipeline.RunCancellable(() => model.TextEncoder.Encode(ids, runOptions, out width), cancellationToken);
        hidden = width;
        return states;
    }

    private LoadedModel GetOrLoad(ModelFolder folder)
    {
        lock (_modelLock)
        {
            if (_loaded is not null && _loaded.Folder.Path == folder.Path) return _loaded;
            ReleaseLoaded();
            _logger.LogInformation("Loading model {Model} from {Path}", folder.Name, folder.Path);
            _loaded = LoadedModel.Load(folder, _sessions, _useTaesd, _fixedUNetShapes);
            _logger.LogInformation("Model {Model} loaded on {Provider}", folder.Name, _loaded.ExecutionProvider);
            return _loaded;
        }
    }

    private Upscaling.IImageUpscaler FindUpscaler(HiresPlan plan, ModelFolder model)
    {
        if (!model.SupportsImg2Img)
            throw new GenerationValidationException($"Hires upscaler '{plan.Upscaler}' works on images, which needs a VAE encoder; model '{model.Name}' has none. Use a Latent upscaler.");
        try
        {
            return _upscalers.Find(plan.Upscaler)
                ?? throw new GenerationValidationException($"Hires upscaler '{plan.Upscaler}' is unknown. Available: {string.Join(", ", [.. Shared.ImageToolsLimits.LatentUpscalers, .. _upscalers.List().Select(u => u.Name)])}.");
        }
        catch (InvalidDataException ex)
        {
            throw new GenerationValidationException(ex.Message);
        }
    }

    /// <summary>A1111's <c>CheckpointInfo.short_title</c>: the name and the first 10 hex digits of its SHA-256, when known.</summary>
    private string ShortTitle(ModelFolder folder) =>
        _registry.Sha256(folder) is { Length: >= 10 } sha ? $"{folder.Name} [{sha[..10]}]" : folder.Name;

    /// <summary>A1111's range for random seeds: [0, 2³² − 2].</summary>
    private static long RandomSeed() => BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(4)) % 4294967295L;

    public void Dispose()
    {
        Unload();
        _ownedUpscalers?.Dispose();
        _gate.Dispose();
    }
}
