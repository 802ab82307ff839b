using SdBlazor.Engine.Hosting;

namespace SdBlazor.Web.Tests.Api;

/// <summary>
/// The embedded default model the API tests run on: <c>models/sdblazor-mini</c> of this checkout. The environment
/// variable <c>SDBLAZOR_TEST_MODELS</c> may point at another folder holding a <c>sdblazor-mini</c> model.
/// </summary>
internal static class DefaultModel
{
    public const string Name = "sdblazor-mini";

    public static string Folder
    {
        get
        {
            var root = Environment.GetEnvironmentVariable("SDBLAZOR_TEST_MODELS") is { Length: > 0 } custom
                ? custom
                : Path.Combine(RepositoryRoot.Find() ?? throw new InvalidOperationException("Tests must run inside the SdBlazor checkout."), "models");
            var folder = Path.Combine(root, Name);
            if (!File.Exists(Path.Combine(folder, "model_index.json")))
                throw new InvalidOperationException($"The default model is missing at {folder}; the A1111 API tests run on it (git merge main once it has landed).");
            return folder;
        }
    }
}
