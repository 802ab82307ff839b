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

    /// <param name="role">Shown in logs and errors, e.g. "unet".</param>
    public OnnxSession Create(string modelPath, string role)
    {
        var engine = options.Value;
        foreach (var provider in Candidates(engine.ExecutionProvider))
        {
            if (_unavailable.ContainsKey(provider)) continue;
            SessionOptions sessionOptions;
            try
            {
                sessionOptions = CreateOptions(provider, engine);
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
                var session = new InferenceSession(modelPath, sessionOptions);
                return new OnnxSession(session, sessionOptions, role, modelPath, provider);
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

    private static SessionOptions CreateOptions(string provider, EngineOptions engine)
    {
        var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        try
        {
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
