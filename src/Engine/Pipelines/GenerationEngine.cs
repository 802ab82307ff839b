using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Tokenization;
using SdBlazor.Shared;

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
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly object _modelLock = new();
    private LoadedModel? _loaded;
    private bool _releaseAfterRun;

    public GenerationEngine(ModelRegistry registry, SessionFactory sessions, IOptions<EngineOptions> options, ILogger<GenerationEngine> logger)
    {
        _registry = registry;
        _sessions = sessions;
        _validator = new RequestValidator(registry);
        _logger = logger;
        _useTaesd = options.Value.UseTaesdPreviews;
    }

    public static string EngineVersion { get; } =
        typeof(GenerationEngine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The model whose sessions are loaded now (tests and the benchmark look inside).</summary>
    internal LoadedModel? Resident
    {
        get { lock (_modelLock) return _loaded; }
    }

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
        lock (_modelLock)
        {
            _loaded?.Dispose();
            _loaded = null;
        }
    }

    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, IStepProgressSink? progress,
        CancellationToken cancellationToken, Func<bool>? skipImage = null)
    {
        var validated = _validator.Validate(request);
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
            return await Task.Run(() => Generate(validated, progress, skipImage, cancellationToken), cancellationToken).ConfigureAwait(false);
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

    private GenerationResult Generate(ValidatedRequest validated, IStepProgressSink? progress, Func<bool>? skipImage, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        var request = validated.Request;
        var seed = request.Seed == -1 ? RandomSeed() : request.Seed;
        var model = GetOrLoad(validated.Model);
        var sha256 = _registry.Sha256(validated.Model);

        using var runOptions = new RunOptions();
        // Aborts an in-flight ONNX run; the pipeline turns the resulting error into OperationCanceledException.
        using var abort = cancellationToken.Register(() => runOptions.Terminate = true);

        var guidance = ClassifierFreeGuidance.IsEnabled(request.CfgScale);
        var conditional = EncodePrompt(model, request.Prompt, runOptions, cancellationToken, out var hidden);
        var unconditional = guidance ? EncodePrompt(model, request.NegativePrompt ?? "", runOptions, cancellationToken, out _) : null;

        float[]? moments = null;
        var momentsChannels = 0;
        if (validated.InitImage is { } init)
        {
            var pixels = ImageTensors.FromImage(init, validated.Width, validated.Height);
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
        var images = new List<GeneratedImage>();
        try
        {
            for (var b = 0; b < request.BatchCount; b++)
            {
                var first = b * request.BatchSize;
                var seeds = Enumerable.Range(first, request.BatchSize).Select(i => seed + i).ToArray();
                var job = new BatchJob(b, first, seeds, conditional, unconditional, ClipTokenizer.ContextLength, hidden, moments, momentsChannels);
                var batchImages = pipeline.Run(validated, job, progress, skipImage, runOptions, started, cancellationToken);
                if (batchImages is null) _logger.LogInformation("Batch {Batch} skipped on request", b);
                else images.AddRange(batchImages);
            }
        }
        catch
        {
            foreach (var image in images) image.Image.Dispose();
            throw;
        }

        var parameters = new ResolvedParameters(
            request.Prompt, request.NegativePrompt ?? "", validated.Model.Name, sha256,
            validated.Sampler.Sampler, validated.Sampler.ScheduleType, request.Steps, request.CfgScale, seed,
            validated.Width, validated.Height, request.BatchSize, request.BatchCount,
            validated.IsImg2Img ? request.Strength : null,
            validated.Model.SchedulerConfigJson, RngName, EngineVersion, model.ExecutionProvider, started.Elapsed);
        _logger.LogInformation("Generated {Count} image(s) with {Model} in {Duration:F1} s", images.Count, validated.Model.Name, started.Elapsed.TotalSeconds);
        return new GenerationResult(images, parameters);
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
            _loaded?.Dispose();
            _loaded = null;
            _logger.LogInformation("Loading model {Model} from {Path}", folder.Name, folder.Path);
            _loaded = LoadedModel.Load(folder, _sessions, _useTaesd);
            _logger.LogInformation("Model {Model} loaded on {Provider}", folder.Name, _loaded.ExecutionProvider);
            return _loaded;
        }
    }

    /// <summary>A1111's range for random seeds: [0, 2³² − 2].</summary>
    private static long RandomSeed() => BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(4)) % 4294967295L;

    public void Dispose()
    {
        Unload();
        _gate.Dispose();
    }
}
