package org.diskferry.image;

import java.lang.invoke.MethodHandle;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The file system's map of data and holes in a sparse file ({@code lseek(2)} with {@code
 * SEEK_DATA} and {@code SEEK_HOLE}), where the running JDK can reach it.
 *
 * <p>Java 17 has no API for this. On Linux with Java 22 or later, and only when native access is
 * enabled for diskferry (the launcher passes {@code --enable-native-access=ALL-UNNAMED}, so the JVM
 * prints no warning), it calls libc through the foreign function API, looked up by reflection so
 * that the code still compiles for Java 17. Everywhere else {@link #dataRanges} returns {@code
 * null} and callers scan the file for zeros instead.
 */
final class SparseFiles {
  private SparseFiles() {}

  private static final int SEEK_DATA = 3; // Linux values; macOS and others differ
  private static final int SEEK_HOLE = 4;

  private static final Native NATIVE = Native.load();

  /** Whether {@link #dataRanges} can ask the file system on this JVM. */
  static boolean available() {
    return NATIVE != null;
  }

  /**
   * The data ranges of {@code path} as {@code [start, end)} pairs within {@code [0, size)}, in
   * order, or {@code null} if the platform offers no way to ask or the file system does not answer.
   * Everything outside the ranges is a hole and reads as zeros; ranges may hold zeros too.
   */
  static List<long[]> dataRanges(Path path, long size) {
    if (NATIVE == null) {
      return null;
    }
    try {
      return NATIVE.dataRanges(path, size);
    } catch (Throwable t) {
      if (t instanceof Error && !(t instanceof LinkageError)) {
        throw (Error) t;
      }
      return null;
    }
  }

  /** libc's fopen, fileno, lseek and fclose as method handles (fopen: no variadic open(2)). */
  private static final class Native {
    private final Object linker;
    private final Method arenaOfConfined;
    private final Method allocateFrom;
    private final Method address;
    private final MethodHandle fopen;
    private final MethodHandle fileno;
    private final MethodHandle lseek;
    private final MethodHandle fclose;

    private Native(Object linker, Method arenaOfConfined, Method allocateFrom, Method address,
        MethodHandle fopen, MethodHandle fileno, MethodHandle lseek, MethodHandle fclose) {
      this.linker = linker;
      this.arenaOfConfined = arenaOfConfined;
      this.allocateFrom = allocateFrom;
      this.address = address;
      this.fopen = fopen;
      this.fileno = fileno;
      this.lseek = lseek;
      this.fclose = fclose;
    }

    static Native load() {
      try {
        if (Runtime.version().feature() < 22
            || !System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) {
          return null;
        }
        Method enabled = Module.class.getMethod("isNativeAccessEnabled");
        if (!(Boolean) enabled.invoke(SparseFiles.class.getModule())) {
          return null;
        }
        Class<?> linkerC = Class.forName("java.lang.foreign.Linker");
        Class<?> lookupC = Class.forName("java.lang.foreign.SymbolLookup");
        Class<?> layoutC = Class.forName("java.lang.foreign.MemoryLayout");
        Class<?> valueC = Class.forName("java.lang.foreign.ValueLayout");
        Class<?> fdC = Class.forName("java.lang.foreign.FunctionDescriptor");
        Class<?> segC = Class.forName("java.lang.foreign.MemorySegment");
        Class<?> optC = Class.forName("java.lang.foreign.Linker$Option");
        Class<?> arenaC = Class.forName("java.lang.foreign.Arena");
        Class<?> allocC = Class.forName("java.lang.foreign.SegmentAllocator");
        Object linker = linkerC.getMethod("nativeLinker").invoke(null);
        Object libc = linkerC.getMethod("defaultLookup").invoke(linker);
        Method find = lookupC.getMethod("find", String.class);
        Object jint = valueC.getField("JAVA_INT").get(null);
        Object jlong = valueC.getField("JAVA_LONG").get(null);
        Object addr = valueC.getField("ADDRESS").get(null);
        Method of = fdC.getMethod("of", layoutC, layoutC.arrayType());
        Method downcall = linkerC.getMethod("downcallHandle", segC, fdC, optC.arrayType());
        Object noOptions = Array.newInstance(optC, 0);
        MethodHandle[] mh = new MethodHandle[4];
        Object[][] sigs = {
          {"fopen", addr, addr, addr},
          {"fileno", jint, addr},
          {"lseek", jlong, jint, jlong, jint},
          {"fclose", jint, addr},
        };
        for (int i = 0; i < sigs.length; i++) {
          Optional<?> sym = (Optional<?>) find.invoke(libc, sigs[i][0]);
          if (sym.isEmpty()) {
            return null;
          }
          Object args = Array.newInstance(layoutC, sigs[i].length - 2);
          for (int j = 2; j < sigs[i].length; j++) {
            Array.set(args, j - 2, sigs[i][j]);
          }
          Object fd = of.invoke(null, sigs[i][1], args);
          mh[i] = (MethodHandle) downcall.invoke(linker, sym.get(), fd, noOptions);
        }
        return new Native(
            linker,
            arenaC.getMethod("ofConfined"),
            allocC.getMethod("allocateFrom", String.class),
            segC.getMethod("address"),
            mh[0], mh[1], mh[2], mh[3]);
      } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
        return null;
      }
    }

    List<long[]> dataRanges(Path path, long size) throws Throwable {
      Object arena = arenaOfConfined.invoke(null);
      try {
        Object cpath = allocateFrom.invoke(arena, path.toAbsolutePath().toString());
        Object mode = allocateFrom.invoke(arena, "re"); // read-only, close-on-exec
        Object file = fopen.invoke(cpath, mode);
        if ((long) address.invoke(file) == 0) {
          return null;
        }
        try {
          int fd = (int) fileno.invoke(file);
          return ranges(fd, size);
        } finally {
          fclose.invoke(file);
        }
      } finally {
        ((AutoCloseable) arena).close();
      }
    }

    private List<long[]> ranges(int fd, long size) throws Throwable {
      List<long[]> out = new ArrayList<>();
      long pos = 0;
      while (pos < size) {
        long data = (long) lseek.invoke(fd, pos, SEEK_DATA);
        if (data < 0) {
          // ENXIO (no data after pos) or no support; only a working SEEK_HOLE tells them apart
          if (pos == 0 && (long) lseek.invoke(fd, 0L, SEEK_HOLE) != 0) {
            return null;
          }
          break;
        }
        if (data >= size) {
          break;
        }
        long hole = (long) lseek.invoke(fd, data, SEEK_HOLE);
        if (hole <= data) {
          return null;
        }
        hole = Math.min(hole, size);
        out.add(new long[] {data, hole});
        pos = hole;
      }
      return out;
    }

    @Override
    public String toString() {
      return "SparseFiles.Native[" + linker + "]";
    }
  }
}
