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
/// <see cref="IGenerationEngine"/> on ONNX Runtime: validates, loads the model's sessions lazily and keeps up to
/// <see cref="EngineOptions.MaxLoadedModels"/> of them loaded (least recently used released first; a model whose files
/// changed is released on refresh), encodes the prompts once per request and runs each batch through
/// <see cref="StableDiffusionPipeline"/>. One generation at a time per engine.
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
    private readonly EmbeddingLibrary _embeddings;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly object _modelLock = new();
    private readonly int _maxLoaded;

    // Least recently used first.
    private readonly List<LoadedEntry> _loaded = [];
    private string? _inUsePath;
    private bool _refreshAfterRun;
    private bool _unloadAllAfterRun;

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
        _maxLoaded = Math.Max(1, options.Value.MaxLoadedModels);
        _loras = new LoraVariants(options.Value.ResolveLoraPath(), registry.Checkpoints.CachePath, logger);
        _embeddings = new EmbeddingLibrary(options.Value.ResolveEmbeddingsPath());
    }

    public static string EngineVersion { get; } =
        typeof(GenerationEngine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The most recently used loaded model (tests and the benchmark look inside).</summary>
    internal LoadedModel? Resident
    {
        get { lock (_modelLock) return _loaded.Count == 0 ? null : _loaded[^1].Model; }
    }

    /// <summary>The textual inversions of the embeddings folder (shared with the API's listing).</summary>
    public EmbeddingLibrary Embeddings => _embeddings;

    /// <summary>
    /// The token width an embedding must have for the resident model (its text encoder's hidden width; SDXL: CLIP-L's
    /// and bigG's), or null while no model has encoded a prompt yet.
    /// </summary>
    public (int Width, bool Sdxl)? ResidentEmbeddingWidth
    {
        get
        {
            if (Resident is { } model && model.TextEncoder.KnownHidden is { } width)
                return (model.IsSdxl ? width + (model.TextEncoder2!.KnownHidden ?? 0) : width, model.IsSdxl);
            // Not run yet (start-up, preload off): the default model's text_encoder/config.json, as exports write it.
            if (!_registry.TryGet(_registry.DefaultModel, out var folder)) return null;
            var first = ConfigHiddenSize(Path.Combine(folder.Path, "text_encoder", "config.json"));
            if (first is null) return null;
            if (!folder.IsSdxl) return (first.Value, false);
            return ConfigHiddenSize(Path.Combine(folder.Path, "text_encoder_2", "config.json")) is { } second ? (first.Value + second, true) : null;
        }
    }

    private static int? ConfigHiddenSize(string path)
    {
        try
        {
            if (!File.Exists(path) || new FileInfo(path).Length > 1 << 20) return null;
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
            return json.RootElement.TryGetProperty("hidden_size", out var size) && size.TryGetInt32(out var value) && value > 0 ? value : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Name of the most recently used loaded model, or null (status displays; the preload test).</summary>
    public string? ResidentModelName => Resident?.Folder.Name;

    public IReadOnlyList<ModelDescriptor> ListModels() => _registry.List();

    public IReadOnlyList<LoadedModelInfo> LoadedModels()
    {
        lock (_modelLock)
            return _loaded.Select(e => new LoadedModelInfo(e.Model.Folder.Name, e.Model.Folder.Path, e.MeasuredBytes, e.LoadTime, e.LoadedUtc, e.LastUsedUtc,
                e.Model.Folder.Path == _inUsePath)).ToList();
    }

    /// <summary>
    /// Re-scans the models folder. Loaded models stay loaded (an import finishing must not throw away what the user
    /// loaded) unless their folder is gone or any of its files changed; one a running generation uses is checked when it ends.
    /// </summary>
    public void RefreshModels()
    {
        _registry.Refresh();
        if (_gate.Wait(0))
        {
            try { ReleaseStale(); }
            finally { _gate.Release(); }
        }
        else _refreshAfterRun = true;
    }

    /// <summary>Releases every loaded model's sessions (they load again on the next generation).</summary>
    public void Unload()
    {
        lock (_modelLock)
        {
            foreach (var entry in _loaded) entry.Model.Dispose();
            _loaded.Clear();
        }
        NativeHeap.Trim();
    }

    public UnloadOutcome UnloadModel(string nameOrPath)
    {
        lock (_modelLock)
        {
            var matches = _loaded.Where(e => e.Model.Folder.Path == nameOrPath || string.Equals(e.Model.Folder.Name, nameOrPath, StringComparison.OrdinalIgnoreCase)).ToList();
            if (matches.Count == 0) return UnloadOutcome.NotLoaded;
            if (matches.Any(e => e.Model.Folder.Path == _inUsePath)) return UnloadOutcome.InUse;
            foreach (var entry in matches) Release(entry);
        }
        NativeHeap.Trim();
        return UnloadOutcome.Unloaded;
    }

    public void UnloadAll()
    {
        lock (_modelLock)
        {
            foreach (var entry in _loaded.Where(e => e.Model.Folder.Path != _inUsePath).ToList()) Release(entry);
            if (_inUsePath is not null) _unloadAllAfterRun = true;
        }
        NativeHeap.Trim();
    }

    private void Release(LoadedEntry entry)
    {
        _loaded.Remove(entry);
        entry.Model.Dispose();
        _logger.LogInformation("Model {Model} unloaded", entry.Model.Folder.Name);
    }

    private void ReleaseStale()
    {
        var stale = 0;
        lock (_modelLock)
        {
            var listed = _registry.List().Select(m => m.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
            foreach (var entry in _loaded.ToList())
            {
                // A LoRA variant carries its base model's name; its own folder is checked by the stamp.
                if (listed.Contains(entry.Model.Folder.Name) && FolderStamp(entry.Model.Folder.Path) == entry.Stamp) continue;
                Release(entry);
                stale++;
            }
        }
        if (stale > 0) NativeHeap.Trim();
    }

    /// <summary>Every file of the folder with its length and write time: any change (a file replaced, a component added) differs.</summary>
    private static string FolderStamp(string path)
    {
        try
        {
            var hash = new HashCode();
            foreach (var file in new DirectoryInfo(path).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true })
                         .OrderBy(f => f.FullName, StringComparer.Ordinal))
            {
                hash.Add(file.FullName);
                hash.Add(file.Length);
                hash.Add(file.LastWriteTimeUtc.Ticks);
            }
            return hash.ToHashCode().ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private sealed class LoadedEntry(LoadedModel model, long measuredBytes, TimeSpan loadTime, string stamp)
    {
        public LoadedModel Model { get; } = model;
        public long MeasuredBytes { get; } = measuredBytes;
        public TimeSpan LoadTime { get; } = loadTime;
        public string Stamp { get; } = stamp;
        public DateTime LoadedUtc { get; } = DateTime.UtcNow;
        public DateTime LastUsedUtc { get; set; } = DateTime.UtcNow;
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
            AfterRun();
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
            if (SdxlEmbeddingWarning(model, encoded) is { } notInjected) warnings.Add(notInjected);
            if (request.ClipSkip > 1) warnings.Add($"Clip skip {request.ClipSkip} does not apply to SDXL models (they are conditioned on both encoders' penultimate layers, as in A1111).");
            sdxl = new StableDiffusionXLPipeline(model).Encode(encoded.Prompt, encoded.NegativePrompt, request.Steps, TextConditioning.Options(request),
                guidance, validated.Width, validated.Height, runOptions, _logger, cancellationToken);
            (conditional, unconditional) = (sdxl.Conditional, sdxl.Unconditional);
        }
        else (conditional, unconditional) = TextConditioning.Encode(model, encoded, guidance, runOptions, _logger, cancellationToken, _embeddings, warnings);
        var added = sdxl?.Added;

        float[]? moments = null;
        var momentsChannels = 0;
        float[]? pixels = null;
        if (validated.InitImage is { } init)
        {
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
        var maskWeight = (float)request.InpaintingMaskWeight;
        var imageConditioning = model.UNet.IsInpainting
            ? InpaintConditioning.Create(model, pixels, validated.Inpaint?.Blurred, maskWeight, validated.Width, validated.Height, runOptions, cancellationToken)
            : null;
        if (!model.UNet.IsInpainting && request.InpaintingMaskWeight != 1)
            warnings.Add($"Inpainting conditioning mask strength {request.InpaintingMaskWeight:0.##} applies to inpainting models only; '{validated.Model.Name}' is not one.");

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
                : TextConditioning.Encode(model, hrRequest, guidance, runOptions, _logger, cancellationToken, _embeddings, warnings);
            // A1111 conditions the second pass on the upscaled first image × (1 − mask weight): at the default weight 1
            // that is the empty image txt2img conditions on, so the same conditioning at the target size serves.
            float[]? hiresConditioning = null;
            if (model.UNet.IsInpainting)
            {
                hiresConditioning = InpaintConditioning.Create(model, null, null, 1, hiresPlan.Width, hiresPlan.Height, runOptions, cancellationToken);
                if (maskWeight != 1) warnings.Add("Hires fix with an inpainting model: the second pass is conditioned on an empty image (as at mask strength 1).");
            }
            hires = new HiresFix(model, validated, hiresPlan, upscaler, hrConditional, hrUnconditional, hrAdded) { ImageConditioning = hiresConditioning };
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
                        ImageConditioning = imageConditioning,
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
                        if (validated.Crop is { } crop)
                        {
                            // "Only masked": A1111's apply_overlay with a paste location; the image gets the original's size.
                            foreach (var image in batchImages)
                            {
                                var pasted = crop.PasteBack(image.Image);
                                image.Image.Dispose();
                                images.Add(image with { Image = pasted });
                            }
                            continue;
                        }
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
            ConditionalMaskWeight = model.UNet.IsInpainting ? request.InpaintingMaskWeight : null,
            MaskedAreaPadding = validated.Crop is null ? null : request.InpaintFullResPadding,
            Refiner = refinerUsed,
            RefinerSwitchAt = refinerUsed is null ? null : request.RefinerSwitchAt,
            NoiseMultiplier = validated.IsImg2Img && request.InitialNoiseMultiplier != 1 ? request.InitialNoiseMultiplier : null,
        };
    }

    /// <summary>SDXL prompts do not go through the A1111 chunker yet, so embeddings named in them are not injected: say so.</summary>
    private string? SdxlEmbeddingWarning(LoadedModel model, GenerationRequest request)
    {
        var (all, _) = _embeddings.Scan();
        if (all.Count == 0) return null;
        // Width 0 fits no embedding: every name written lands in WrongWidth, which is the list wanted here.
        var lookup = _embeddings.Lookup(model.Tokenizer, TextualInversion.ClipL, 0);
        var chunker = new PromptChunker(model.Tokenizer, embeddings: lookup);
        chunker.Chunk(request.Prompt);
        chunker.Chunk(request.NegativePrompt ?? "");
        return lookup.WrongWidth.Count == 0 ? null
            : $"Embedding(s) {string.Join(", ", lookup.WrongWidth.Select(n => $"'{n}'"))} are not injected into SDXL prompts yet (SDXL prompts are encoded as written); the names were read as words.";
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
        // A single-file checkpoint merges through its weight manifest; a diffusers-ONNX folder through its graph's names.
        var layout = _registry.FindCheckpoint(folder.Name)?.Layout;
        var clock = Stopwatch.StartNew();
        try
        {
            var variant = _loras.Prepare(folder, layout, loras, warnings, cancellationToken);
            _logger.LogInformation("LoRA set {Loras} for {Model} ready in {Duration:F2} s", names, folder.Name, clock.Elapsed.TotalSeconds);
            return variant;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CheckpointException or ModelFolderException or Google.Protobuf.InvalidProtocolBufferException)
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
                if (IsLoaded(folder.Path))
                {
                    GetOrLoad(folder); // counts as a use: the least recently used is released first
                    return new PreloadTimings(TimeSpan.Zero, TimeSpan.Zero, false);
                }
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
            AfterRun();
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

    private bool IsLoaded(string path)
    {
        lock (_modelLock) return _loaded.Any(e => e.Model.Folder.Path == path);
    }

    /// <summary>Under the gate, after a generation or a preload: the model is free again; deferred unloads and refreshes happen now.</summary>
    private void AfterRun()
    {
        bool unloadAll, refresh;
        lock (_modelLock)
        {
            _inUsePath = null;
            (unloadAll, refresh) = (_unloadAllAfterRun, _refreshAfterRun);
            _unloadAllAfterRun = _refreshAfterRun = false;
        }
        if (unloadAll) Unload();
        else if (refresh) ReleaseStale();
    }

    /// <summary>The loaded sessions of <paramref name="folder"/>, loading them (and releasing the least recently used beyond the limit) when needed; marks it in use until <see cref="AfterRun"/>.</summary>
    private LoadedModel GetOrLoad(ModelFolder folder)
    {
        lock (_modelLock)
        {
            var entry = _loaded.FirstOrDefault(e => e.Model.Folder.Path == folder.Path);
            if (entry is null)
            {
                var released = false;
                while (_loaded.Count >= _maxLoaded && _loaded.FirstOrDefault(e => e.Model.Folder.Path != _inUsePath) is { } oldest)
                {
                    Release(oldest);
                    released = true;
                }
                if (released) NativeHeap.Trim();
                _logger.LogInformation("Loading model {Model} from {Path}", folder.Name, folder.Path);
                var before = Environment.WorkingSet;
                var clock = Stopwatch.StartNew();
                var model = LoadedModel.Load(folder, _sessions, _useTaesd, _fixedUNetShapes);
                entry = new LoadedEntry(model, Math.Max(0, Environment.WorkingSet - before), clock.Elapsed, FolderStamp(folder.Path));
                _logger.LogInformation("Model {Model} loaded on {Provider} in {Duration:F2} s", folder.Name, model.ExecutionProvider, clock.Elapsed.TotalSeconds);
            }
            else _loaded.Remove(entry);
            _loaded.Add(entry);
            entry.LastUsedUtc = DateTime.UtcNow;
            _inUsePath = folder.Path;
            return entry.Model;
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
