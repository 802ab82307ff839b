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

    /// <summary>Use <c>taesd_decoder/model.onnx</c> for step previews when a model folder ships one (better pictures, costs more than the projection).</summary>
    public bool UseTaesdPreviews { get; set; } = true;

    public string ResolveModelsPath()
    {
        if (!string.IsNullOrWhiteSpace(ModelsPath)) return Path.GetFullPath(ModelsPath);
        var root = Hosting.RepositoryRoot.Find(Directory.GetCurrentDirectory());
        return root is not null ? Path.Combine(root, "models") : Path.Combine(AppContext.BaseDirectory, "models");
    }
}
