using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine.Models;

namespace SdBlazor.Engine.Onnx;

/// <summary>
/// Creates <see cref="OnnxSession"/>s on the configured execution provider. An explicitly chosen provider that is not
/// available falls back to CPU with a warning naming the cause; <see cref="ExecutionProviderKind.Auto"/> tries
/// DirectML (Windows only), then CUDA, then CPU, and only logs the fallback at information level.
/// </summary>
public sealed class SessionFactory(IOptions<EngineOptions> options, ILogger<SessionFactory> logger)
{
    public const string Cpu = "CPU";
    public const string DirectML = "DirectML";
    public const string Cuda = "CUDA";

    // Why a provider failed, remembered so that every later session does not retry (and re-log) it.
    private readonly ConcurrentDictionary<string, string> _unavailable = new();

    private readonly OptimizedModelCache? _cache = options.Value.OptimizedModelCache
        ? new OptimizedModelCache(options.Value.ResolveOptimizedModelCachePath(), options.Value.OptimizedModelCacheMinBytes)
        : null;

    /// <param name="role">Shown in logs and errors, e.g. "unet".</param>
    /// <param name="freeDimensions">Symbolic dimensions to fix (ONNX Runtime's free-dimension overrides), e.g. a UNet's batch and size on DirectML.</param>
    public OnnxSession Create(string modelPath, string role, IReadOnlyDictionary<string, long>? freeDimensions = null) =>
        Create(modelPath, role, freeDimensions, null);

    /// <summary>
    /// A session of <paramref name="editedModel"/>, a graph edited in memory from <paramref name="modelPath"/> (clip-skip
    /// outputs); external data still resolves next to <paramref name="modelPath"/>. Not saved in the optimised-graph cache.
    /// </summary>
    public OnnxSession CreateEdited(string modelPath, string role, byte[] editedModel) => Create(modelPath, role, null, editedModel);

    private OnnxSession Create(string modelPath, string role, IReadOnlyDictionary<string, long>? freeDimensions, byte[]? editedModel)
    {
        var engine = options.Value;
        foreach (var provider in Candidates(engine.ExecutionProvider))
        {
            if (_unavailable.ContainsKey(provider)) continue;
            SessionOptions sessionOptions;
            try
            {
                sessionOptions = CreateOptions(provider, engine, freeDimensions);
            }
            catch (Exception ex) when (provider != Cpu && ex is EntryPointNotFoundException or DllNotFoundException or OnnxRuntimeException)
            {
                // The provider is not in this ONNX Runtime build (or its native libraries are missing): remember why.
                var cause = $"{ex.GetType().Name}: {FirstLine(ex.Message)}";
                _unavailable[provider] = cause;
                if (engine.ExecutionProvider == ExecutionProviderKind.Auto)
                    logger.LogInformation("Execution provider {Provider} is not available ({Cause}); trying the next one.", provider, cause);
                else
                    logger.LogWarning("Execution provider {Provider} was requested (Engine:ExecutionProvider = {Choice}) but is not available ({Cause}); falling back to CPU.", provider, engine.ExecutionProvider, cause);
                continue;
            }

            try
            {
                // A fixed-shape graph is one of many per model: not worth a saved copy each.
                if (editedModel is not null)
                {
                    sessionOptions.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", Path.GetDirectoryName(Path.GetFullPath(modelPath))!);
                    return new OnnxSession(new InferenceSession(editedModel, sessionOptions), sessionOptions, role, modelPath, provider);
                }
                return provider == Cpu && _cache is not null && freeDimensions is not { Count: > 0 }
                    ? CreateThroughCache(modelPath, role, sessionOptions, engine)
                    : new OnnxSession(new InferenceSession(modelPath, sessionOptions), sessionOptions, role, modelPath, provider);
            }
            catch (OnnxRuntimeException ex) when (provider != Cpu)
            {
                // The provider exists but cannot run this model (device missing, unsupported operator): CPU for this session only.
                sessionOptions.Dispose();
                logger.LogWarning("{Role}: cannot create a session on {Provider} ({Cause}); falling back to CPU.", role, provider, FirstLine(ex.Message));
            }
            catch (OnnxRuntimeException ex)
            {
                sessionOptions.Dispose();
                throw new ModelFolderException($"{role}: ONNX Runtime cannot load '{modelPath}': {FirstLine(ex.Message)}", ex);
            }
        }
        throw new InvalidOperationException("Unreachable: the CPU provider is always a candidate.");
    }

    /// <summary>
    /// CPU sessions of large models go through <see cref="OptimizedModelCache"/>: load the saved optimised graph when there
    /// is one, else optimise the source and save the result for the next start. A saved graph that does not load is
    /// removed and the source is used; a failure to save (disk full, read-only folder) only costs the saving.
    /// </summary>
    private OnnxSession CreateThroughCache(string modelPath, string role, SessionOptions sessionOptions, EngineOptions engine)
    {
        var entry = _cache!.EntryFor(modelPath, Cpu, sessionOptions.GraphOptimizationLevel);
        if (entry is not null && entry.Exists)
        {
            try
            {
                var saved = new InferenceSession(entry.ModelPath, sessionOptions);
                return new OnnxSession(saved, sessionOptions, role, modelPath, Cpu) { LoadedFrom = entry.ModelPath, Cache = OptimizedCacheUse.Loaded };
            }
            catch (OnnxRuntimeException ex)
            {
                logger.LogWarning("{Role}: the saved optimised graph '{Entry}' does not load ({Cause}); removing it and optimising '{Model}' again.",
                    role, entry.ModelPath, FirstLine(ex.Message), modelPath);
                entry.Delete();
            }
        }
        if (entry is null || !HasRoomFor(entry, role))
            return new OnnxSession(new InferenceSession(modelPath, sessionOptions), sessionOptions, role, modelPath, Cpu);

        var staging = entry.CreateStaging();
        var saving = CreateOptions(Cpu, engine);
        InferenceSession session;
        try
        {
            saving.OptimizedModelFilePath = Path.Combine(staging, OptimizedModelCache.ModelFileName);
            // ORT warns on every save that an NCHWc graph is hardware specific; the entry's key holds the CPU's
            // instruction sets and ORT's version for exactly that reason, so only errors are worth printing here.
            saving.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR;
            // Initializers as external data: an SD UNet's weights are over protobuf's 2 GB limit.
            saving.AddSessionConfigEntry("session.optimized_model_external_initializers_file_name", OptimizedModelCache.DataFileName);
            saving.AddSessionConfigEntry("session.optimized_model_external_initializers_min_size_in_bytes", "1024");
            session = new InferenceSession(modelPath, saving);
        }
        catch (OnnxRuntimeException ex)
        {
            // A broken model fails again below with the caller's message; anything else was the saving.
            saving.Dispose();
            OptimizedModelCache.Entry.DeleteQuietly(staging);
            var plain = new InferenceSession(modelPath, sessionOptions);
            logger.LogWarning("{Role}: could not save the optimised graph to '{Staging}' ({Cause}); the model loads from its source each start.", role, staging, FirstLine(ex.Message));
            return new OnnxSession(plain, sessionOptions, role, modelPath, Cpu);
        }

        sessionOptions.Dispose();
        // Serialising the graph left its buffers on glibc's free lists: give them back now, or the process keeps
        // that much more RSS for as long as the model stays loaded (measured: SD 2.1, 6.4 GiB right after the load).
        NativeHeap.Trim();
        try
        {
            entry.Commit(staging);
            logger.LogInformation("{Role}: saved ONNX Runtime's optimised graph of '{Model}' in '{Entry}' ({Bytes:N0} bytes); later starts load it (Engine:OptimizedModelCache).",
                role, modelPath, entry.Folder, entry.Bytes);
            return new OnnxSession(session, saving, role, modelPath, Cpu) { Cache = OptimizedCacheUse.Written };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            OptimizedModelCache.Entry.DeleteQuietly(staging);
            logger.LogWarning("{Role}: could not keep the optimised graph in '{Entry}' ({Cause}).", role, entry.Folder, ex.Message);
            return new OnnxSession(session, saving, role, modelPath, Cpu);
        }
    }

    private bool HasRoomFor(OptimizedModelCache.Entry entry, string role)
    {
        try
        {
            Directory.CreateDirectory(_cache!.Root);
            var free = new DriveInfo(_cache.Root).AvailableFreeSpace;
            // Keep a margin: the cache must never be what fills the disk the gallery writes to.
            var needed = entry.ExpectedBytes + (entry.ExpectedBytes / 10) + (1L << 30);
            if (free >= needed) return true;
            logger.LogWarning("{Role}: not saving the optimised graph: {Free:N0} bytes free in '{Root}', {Needed:N0} needed.", role, free, _cache.Root, needed);
            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            logger.LogWarning("{Role}: not saving the optimised graph: '{Root}' is not usable ({Cause}).", role, _cache!.Root, ex.Message);
            return false;
        }
    }

    /// <summary>Why a provider was found unavailable, or <c>null</c> when it was not tried or worked.</summary>
    public string? UnavailableCause(string provider) => _unavailable.GetValueOrDefault(provider);

    private static IEnumerable<string> Candidates(ExecutionProviderKind kind)
    {
        switch (kind)
        {
            case ExecutionProviderKind.DirectML: yield return DirectML; break;
            case ExecutionProviderKind.Cuda: yield return Cuda; break;
            case ExecutionProviderKind.Auto:
                if (OperatingSystem.IsWindows()) yield return DirectML;
                yield return Cuda;
                break;
        }
        yield return Cpu;
    }

    private static SessionOptions CreateOptions(string provider, EngineOptions engine, IReadOnlyDictionary<string, long>? freeDimensions = null)
    {
        var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        try
        {
            foreach (var (name, value) in freeDimensions ?? new Dictionary<string, long>())
                sessionOptions.AddFreeDimensionOverrideByName(name, value);
            if (engine.IntraOpThreads > 0) sessionOptions.IntraOpNumThreads = engine.IntraOpThreads;
            if (!string.IsNullOrEmpty(engine.ProfileOutputPrefix))
            {
                // Prefix first: the EnableProfiling setter hands ONNX Runtime the prefix it has at that moment.
                sessionOptions.ProfileOutputPathPrefix = engine.ProfileOutputPrefix;
                sessionOptions.EnableProfiling = true;
            }
            switch (provider)
            {
                case Cpu:
                    // The memory pattern pre-plans one block per input shape; for SD-sized UNets it costs ~2 GiB of
                    // peak RSS and buys no speed on the CPU provider (EngineOptions.CpuMemoryPattern).
                    sessionOptions.EnableMemoryPattern = engine.CpuMemoryPattern;
                    break;
                case DirectML:
                    // DirectML does not support memory patterns or parallel execution (ORT DirectML EP docs).
                    sessionOptions.EnableMemoryPattern = false;
                    sessionOptions.ExecutionMode = ExecutionMode.ORT_SEQUENTIAL;
                    sessionOptions.AppendExecutionProvider_DML(engine.DeviceId);
                    break;
                case Cuda:
                    sessionOptions.AppendExecutionProvider_CUDA(engine.DeviceId);
                    break;
            }
            return sessionOptions;
        }
        catch
        {
            sessionOptions.Dispose();
            throw;
        }
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
