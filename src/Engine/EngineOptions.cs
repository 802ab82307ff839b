using SdBlazor.Engine.Onnx;

namespace SdBlazor.Engine;

/// <summary>The <c>Engine</c> configuration section (appsettings.json, environment <c>Engine__X</c>, command line <c>--Engine:X</c>).</summary>
public sealed class EngineOptions
{
    public const string Section = "Engine";

    /// <summary>Folder whose subfolders are models. Empty: the repository's <c>models/</c> when run from a checkout, else <c>&lt;app base&gt;/models</c>.</summary>
    public string ModelsPath { get; set; } = "";

    public string DefaultModel { get; set; } = "sdblazor-mini";

    public ExecutionProviderKind ExecutionProvider { get; set; } = ExecutionProviderKind.Auto;

    public int DeviceId { get; set; }

    /// <summary>Threads ONNX Runtime uses inside one operator; 0 keeps ORT's default (one per physical core).</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// ONNX Runtime's memory pattern on the CPU provider. Off by default: with an SD 1.5-sized UNet at 512×512 and CFG,
    /// bare ONNX Runtime peaked at 7.7 GiB RSS with it and 5.5 GiB without, at the same speed (issue 8's measurement).
    /// DirectML always runs without it (the provider does not support it).
    /// </summary>
    public bool CpuMemoryPattern { get; set; }

    /// <summary>
    /// Diagnosis only: when set, every session writes ONNX Runtime's profile (Chrome trace JSON, one event per kernel)
    /// to a file whose path starts with this; <c>OnnxSession.Session.EndProfiling()</c> returns its name. The bench's
    /// <c>--profile-unet</c> uses it. Profiling costs time, so leave it empty for normal runs.
    /// </summary>
    public string? ProfileOutputPrefix { get; set; }

    /// <summary>
    /// CPU provider: keep ONNX Runtime's optimised graph of every large model (<see cref="OptimizedModelCacheMinBytes"/>)
    /// and load it on later starts instead of optimising again (~10 s less per start for an SD 1.5 UNet; costs about the
    /// model's size on disk, written once). See <see cref="OptimizedModelCache"/>.
    /// </summary>
    public bool OptimizedModelCache { get; set; } = true;

    /// <summary>Folder for <see cref="OptimizedModelCache"/>. Empty: <c>.cache/ort-optimized</c> of the repository when run from a checkout, else the user's local application data.</summary>
    public string OptimizedModelCachePath { get; set; } = "";

    /// <summary>Models below this size (graph plus the other files of its folder) are not cached: they optimise in well under a second.</summary>
    public long OptimizedModelCacheMinBytes { get; set; } = 64L << 20;

    /// <summary>
    /// Whether the UNet gets a session per shape with its symbolic dimensions fixed by free-dimension overrides
    /// (<see cref="UNetRunner"/>). <see cref="FixedShapes.Auto"/>: on DirectML only.
    /// </summary>
    public FixedShapes FixedUNetShapes { get; set; } = FixedShapes.Auto;

    /// <summary>
    /// Most models whose sessions stay loaded at once, so that switching back to one costs nothing; the least recently
    /// used is released first, never the one a generation is using. The web app also keeps their total within its
    /// memory budget (<c>Generation:MemoryBudgetBytes</c>). 1: A1111's default, one model at a time.
    /// </summary>
    public int MaxLoadedModels { get; set; } = 4;

    /// <summary>Load the default model's sessions in the background when the app starts, so that the first request does not pay for session creation.</summary>
    public bool PreloadDefaultModel { get; set; } = true;

    /// <summary>
    /// After a preload (<see cref="Pipelines.GenerationEngine.PreloadAsync"/>), run the text encoder and one UNet call at the
    /// model's native size with the CFG batch, so that ONNX Runtime's first-run work (arena growth, first-touch page
    /// faults) is done before the first request. Models loaded on demand by a request are not warmed up: that would only add a step.
    /// </summary>
    public bool WarmUpOnLoad { get; set; } = true;

    /// <summary>Use <c>taesd_decoder/model.onnx</c> for step previews when a model folder ships one (better pictures, costs more than the projection).</summary>
    public bool UseTaesdPreviews { get; set; } = true;

    /// <summary>Folder of the architecture graph sets single-file checkpoints are converted with. Empty: <c>Architectures/</c> beside the app.</summary>
    public string ArchitecturesPath { get; set; } = "";

    /// <summary>Where checkpoints converted to diffusers-ONNX folders are kept. Empty: <c>.cache/checkpoints</c> of the repository when run from a checkout, else the user's local application data.</summary>
    public string CheckpointCachePath { get; set; } = "";

    /// <summary>Folder of LoRA files (<c>&lt;lora:NAME:…&gt;</c> in prompts). Empty: <c>Lora</c> inside the models folder, as A1111 keeps them.</summary>
    public string LoraPath { get; set; } = "";

    /// <summary>Folder of textual-inversion embeddings (their file name in a prompt). Empty: <c>embeddings</c> inside the models folder, as A1111 keeps them.</summary>
    public string EmbeddingsPath { get; set; } = "";

    public string ResolveEmbeddingsPath() =>
        string.IsNullOrWhiteSpace(EmbeddingsPath) ? Path.Combine(ResolveModelsPath(), "embeddings") : Path.GetFullPath(EmbeddingsPath);

    public string ResolveLoraPath() =>
        string.IsNullOrWhiteSpace(LoraPath) ? Path.Combine(ResolveModelsPath(), "Lora") : Path.GetFullPath(LoraPath);

    public string ResolveArchitecturesPath() =>
        string.IsNullOrWhiteSpace(ArchitecturesPath) ? Path.Combine(AppContext.BaseDirectory, "Architectures") : Path.GetFullPath(ArchitecturesPath);

    public string ResolveCheckpointCachePath()
    {
        if (!string.IsNullOrWhiteSpace(CheckpointCachePath)) return Path.GetFullPath(CheckpointCachePath);
        var root = Hosting.RepositoryRoot.Find(Directory.GetCurrentDirectory());
        return root is not null
            ? Path.Combine(root, ".cache", "checkpoints")
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "SdBlazor", "checkpoints");
    }

    public string ResolveOptimizedModelCachePath()
    {
        if (!string.IsNullOrWhiteSpace(OptimizedModelCachePath)) return Path.GetFullPath(OptimizedModelCachePath);
        var root = Hosting.RepositoryRoot.Find(Directory.GetCurrentDirectory());
        return root is not null
            ? Path.Combine(root, ".cache", "ort-optimized")
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "SdBlazor", "ort-optimized");
    }

    public string ResolveModelsPath()
    {
        if (!string.IsNullOrWhiteSpace(ModelsPath)) return Path.GetFullPath(ModelsPath);
        var root = Hosting.RepositoryRoot.Find(Directory.GetCurrentDirectory());
        return root is not null ? Path.Combine(root, "models") : Path.Combine(AppContext.BaseDirectory, "models");
    }
}
