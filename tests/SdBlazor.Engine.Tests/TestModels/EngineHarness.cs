using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Pipelines;

namespace SdBlazor.Engine.Tests.TestModels;

/// <summary>A models folder in a fresh temp directory plus a real engine over it. Disposing deletes the folder.</summary>
public sealed class EngineHarness : IDisposable
{
    public EngineHarness(TinyModelOptions? model = null, ExecutionProviderKind provider = ExecutionProviderKind.Cpu, bool createModel = true,
        Action<EngineOptions>? configure = null)
    {
        ModelsPath = Path.Combine(Path.GetTempPath(), "sdblazor-engine-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(ModelsPath);
        if (createModel) ModelPath = TinyModel.Create(ModelsPath, "tiny", model);
        var options = new EngineOptions
        {
            ModelsPath = ModelsPath,
            DefaultModel = "tiny",
            ExecutionProvider = provider,
            IntraOpThreads = 1,
        };
        configure?.Invoke(options);
        Options = Microsoft.Extensions.Options.Options.Create(options);
        Registry = new ModelRegistry(Options, Logs.CreateLogger<ModelRegistry>());
        Sessions = new SessionFactory(Options, Logs.CreateLogger<SessionFactory>());
        Engine = new GenerationEngine(Registry, Sessions, Options, Logs.CreateLogger<GenerationEngine>());
    }

    public string ModelsPath { get; }
    public string ModelPath { get; } = "";
    public IOptions<EngineOptions> Options { get; }
    public ListLogs Logs { get; } = new();
    public ModelRegistry Registry { get; }
    public SessionFactory Sessions { get; }
    public GenerationEngine Engine { get; }

    public void Dispose()
    {
        Engine.Dispose();
        try { Directory.Delete(ModelsPath, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Collects log entries so tests can assert on warnings.</summary>
public sealed class ListLogs
{
    private readonly List<(LogLevel Level, string Category, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Category, string Message)> Entries
    {
        get { lock (_entries) return _entries.ToList(); }
    }

    public ILogger<T> CreateLogger<T>() => new Logger<T>(this);

    private sealed class Logger<T>(ListLogs owner) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._entries) owner._entries.Add((logLevel, typeof(T).Name, formatter(state, exception)));
        }
    }
}

/// <summary>Records every progress call (copying the latents, which are only valid during the call).</summary>
public sealed class RecordingSink(Action<StepProgress>? onStep = null) : IStepProgressSink
{
    public List<StepProgress> Steps { get; } = [];
    public List<float[]> Latents { get; } = [];

    public void OnStep(in StepProgress progress)
    {
        Steps.Add(progress);
        Latents.Add(progress.Latents.ToArray());
        onStep?.Invoke(progress);
    }
}
