using System.Runtime.InteropServices;
using SdBlazor.Engine.Onnx;
using Xunit;

namespace SdBlazor.Engine.Tests;

public sealed class NativeHeapTests
{
    [Fact]
    public void Trim_reaches_glibc_on_linux_after_a_large_native_block_is_freed()
    {
        if (!OperatingSystem.IsLinux()) return; // elsewhere the OS returns freed pages itself and Trim is a no-op
        // Below glibc's mmap threshold blocks come from the heap, so freeing many of them leaves trimmable pages.
        var blocks = Enumerable.Range(0, 512).Select(_ => Marshal.AllocHGlobal(64 * 1024)).ToList(); // malloc on Linux
        foreach (var block in blocks) Marshal.FreeHGlobal(block);
        Assert.True(NativeHeap.Trim(), "malloc_trim did not bind or released nothing (musl libc?)");
    }
}
