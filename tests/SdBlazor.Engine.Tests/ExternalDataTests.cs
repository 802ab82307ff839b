using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Tests.TestModels;
using Xunit;

namespace SdBlazor.Engine.Tests;

/// <summary>ONNX external-data locations must stay inside the model folder and exist.</summary>
public sealed class ExternalDataTests : IDisposable
{
    private readonly string _parent = Path.Combine(Path.GetTempPath(), "sdblazor-extdata-tests", Guid.NewGuid().ToString("N"));
    private readonly string _model;

    public ExternalDataTests()
    {
        _model = Path.Combine(_parent, "model");
        Directory.CreateDirectory(Path.Combine(_model, "unet"));
        File.WriteAllBytes(Path.Combine(_model, "unet", "weights.bin"), BitConverter.GetBytes(2.5f));
        File.WriteAllBytes(Path.Combine(_parent, "outside.bin"), BitConverter.GetBytes(2.5f));
    }

    private string WriteGraph(string location, long length = 4)
    {
        var b = new OnnxBuilder().Input("x", OnnxBuilder.Float, 1).Output("y", OnnxBuilder.Float, 1);
        var weights = b.ExternalFloatInitializer(location, 0, length, 1);
        b.NodeTo("Add", ["x", weights], "y");
        var path = Path.Combine(_model, "unet", "model.onnx");
        b.Save(path);
        return path;
    }

    [Fact]
    public void External_data_inside_the_folder_is_accepted_and_loads()
    {
        var path = WriteGraph("weights.bin");
        OnnxFileInspector.Inspect(path, _model);

        using var session = new InferenceSession(path);
        using var x = OrtValue.CreateTensorValueFromMemory(new[] { 1f }, [1]);
        using var y = session.Run(new RunOptions(), ["x"], [x], ["y"]);
        Assert.Equal(3.5f, y[0].GetTensorDataAsSpan<float>()[0]);
    }

    [Theory]
    [InlineData("../../outside.bin")]
    [InlineData("../../model/../outside.bin")]
    [InlineData("sub/../../../outside.bin")]
    public void Relative_path_leaving_the_folder_is_refused(string location)
    {
        var path = WriteGraph(location);
        var error = Assert.Throws<ModelFolderException>(() => OnnxFileInspector.Inspect(path, _model));
        Assert.Contains($"'{location}' outside the model folder; refused", error.Message);
        Assert.StartsWith("Model 'model': unet/model.onnx", error.Message);
    }

    [Fact]
    public void Absolute_path_is_refused()
    {
        var location = Path.Combine(_parent, "outside.bin");
        var error = Assert.Throws<ModelFolderException>(() => OnnxFileInspector.Inspect(WriteGraph(location), _model));
        Assert.Contains("absolute path", error.Message);
    }

    [Fact]
    public void Sibling_folder_inside_the_model_is_allowed()
    {
        Directory.CreateDirectory(Path.Combine(_model, "shared"));
        File.Copy(Path.Combine(_model, "unet", "weights.bin"), Path.Combine(_model, "shared", "w.bin"));
        OnnxFileInspector.Inspect(WriteGraph("../shared/w.bin"), _model);
    }

    [Fact]
    public void Missing_external_file_is_named()
    {
        var error = Assert.Throws<ModelFolderException>(() => OnnxFileInspector.Inspect(WriteGraph("model.onnx_data"), _model));
        Assert.Contains("external data file 'unet/model.onnx_data'", error.Message);
        Assert.Contains("is missing", error.Message);
    }

    [Fact]
    public void Short_external_file_is_reported_as_truncated()
    {
        var error = Assert.Throws<ModelFolderException>(() => OnnxFileInspector.Inspect(WriteGraph("weights.bin", length: 400), _model));
        Assert.Contains("'unet/weights.bin' is 4 bytes", error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void Model_folder_validation_applies_the_check()
    {
        var model = TinyModel.Create(_parent, "full");
        var unet = Path.Combine(model, "unet", "model.onnx");
        var b = new OnnxBuilder().Input("x", OnnxBuilder.Float, 1).Output("y", OnnxBuilder.Float, 1);
        b.NodeTo("Add", ["x", b.ExternalFloatInitializer("../../outside.bin", 0, 4, 1)], "y");
        b.Save(unet);
        var error = Assert.Throws<ModelFolderException>(() => ModelFolder.Open(model));
        Assert.Contains("outside the model folder", error.Message);
    }

    public void Dispose()
    {
        try { Directory.Delete(_parent, true); } catch (IOException) { }
    }
}
