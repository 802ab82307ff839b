using SdBlazor.Engine.Models.Sources;
using SdBlazor.Engine.Tests.TestModels;

namespace SdBlazor.Engine.Tests.Checkpoints;

/// <summary>An engine over a temp models folder (with the tiny folder model) that converts checkpoints with the tiny graph sets into a temp cache.</summary>
public sealed class CheckpointHarness : IDisposable
{
    public CheckpointHarness()
    {
        CachePath = Path.Combine(Path.GetTempPath(), "sdblazor-engine-tests", "ckpt-cache-" + Guid.NewGuid().ToString("N"));
        Engine = new EngineHarness(configure: o =>
        {
            o.ArchitecturesPath = Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "architectures");
            o.CheckpointCachePath = CachePath;
        });
    }

    public EngineHarness Engine { get; }
    public string CachePath { get; }
    public string ModelsPath => Engine.ModelsPath;

    public GraphSet Set(string name) => GraphSet.Load(TestCheckpoints.GraphSetPath(name));

    /// <summary>Writes <c>NAME.safetensors</c> for the graph set into the models folder; returns what was written.</summary>
    public List<TestTensor> Write(string name, string graphSet, string releasedArch, TestCheckpoints.Options? options = null,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var tensors = TestCheckpoints.ForGraphSet(Set(graphSet), releasedArch, options);
        SafetensorsWriter.Write(Path.Combine(ModelsPath, name + ".safetensors"), tensors, metadata);
        return tensors;
    }

    public void Dispose()
    {
        Engine.Dispose();
        try { Directory.Delete(CachePath, recursive: true); } catch (DirectoryNotFoundException) { } catch (IOException) { }
    }
}
