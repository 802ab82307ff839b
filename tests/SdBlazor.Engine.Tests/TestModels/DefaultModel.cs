using SdBlazor.Engine.Hosting;

namespace SdBlazor.Engine.Tests.TestModels;

/// <summary>The repository's embedded default model (<c>models/sdblazor-mini</c>) and its torch reference fixtures.</summary>
public static class DefaultModel
{
    public const string Name = "sdblazor-mini";

    public static string? ModelsPath { get; } = RepositoryRoot.Find(AppContext.BaseDirectory) is { } root ? System.IO.Path.Combine(root, "models") : null;

    public static string? Path { get; } = ModelsPath is null ? null : System.IO.Path.Combine(ModelsPath, Name);

    public static bool Present => Path is not null && File.Exists(System.IO.Path.Combine(Path, "unet", "model.onnx"));

    public static string FixturesPath { get; } = System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures");
}

/// <summary>A test that needs <c>models/sdblazor-mini</c>: reported as skipped (not passed) while the model is not in the checkout.</summary>
public sealed class DefaultModelFactAttribute : FactAttribute
{
    public DefaultModelFactAttribute(string? fixture = null)
    {
        if (!DefaultModel.Present) Skip = $"models/{DefaultModel.Name} is not in this checkout";
        else if (fixture is not null && !Directory.Exists(System.IO.Path.Combine(DefaultModel.FixturesPath, fixture)) && !File.Exists(System.IO.Path.Combine(DefaultModel.FixturesPath, fixture)))
            Skip = $"fixture {fixture} is not in this checkout";
    }
}
