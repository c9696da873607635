// Types for the glint package: the common part of onnxruntime-web's API, plus
// a few glint-specific read-only properties on InferenceSession.

export declare namespace Tensor {
  type Type = 'float32' | 'float16' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' |
              'int32' | 'uint32' | 'int64' | 'uint64' | 'bool';
  interface DataTypeMap {
    float32: Float32Array; float16: Uint16Array; float64: Float64Array;
    int8: Int8Array; uint8: Uint8Array; int16: Int16Array; uint16: Uint16Array;
    int32: Int32Array; uint32: Uint32Array; int64: BigInt64Array; uint64: BigUint64Array;
    bool: Uint8Array;
  }
  type DataType = DataTypeMap[Type];
}

export interface ImageOptions {
  /** Output width (default: the image's). */
  resizedWidth?: number;
  /** Output height (default: the image's). */
  resizedHeight?: number;
  /** Resize so the shorter side is this long (aspect kept), then centre-crop to resizedWidth x resizedHeight. */
  shortSide?: number;
  /** Channel order; GRAY is BT.601 luma. Default 'RGB'. */
  tensorFormat?: 'RGB' | 'BGR' | 'RGBA' | 'BGRA' | 'GRAY';
  /** Default 'NCHW'. */
  tensorLayout?: 'NCHW' | 'NHWC';
  /** Default 'float32'; 'float16' gives IEEE half bits in a Uint16Array; 'uint8' the raw pixels. */
  dataType?: 'float32' | 'float16' | 'uint8';
  /** v = (pixel - mean) * scale, pixel in 0..255; per channel in tensorFormat's order. */
  mean?: number | number[];
  scale?: number | number[];
  /** Alternative to scale: v = (pixel - mean) / std. */
  std?: number | number[];
  /** onnxruntime-web's form: v = (pixel + bias) / mean. With neither form, v = pixel / 255. */
  norm?: { mean?: number | number[]; bias?: number | number[] };
  /** v = 255 - pixel before normalising. */
  invert?: boolean;
  /** Canvas imageSmoothingQuality used for the resize. Default 'high'. */
  smoothing?: 'high' | 'medium' | 'low';
}

export type ImageSource = HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | ImageBitmap |
                          HTMLVideoElement | ImageData | string | URL;

export declare class Tensor<T extends Tensor.Type = Tensor.Type> {
  constructor(type: T, data: Tensor.DataTypeMap[T] | readonly number[] | readonly boolean[] | readonly bigint[],
              dims?: readonly number[]);
  constructor(data: Tensor.DataType, dims?: readonly number[]);
  readonly type: T;
  readonly data: Tensor.DataTypeMap[T];
  readonly dims: readonly number[];
  readonly size: number;
  readonly location: 'cpu';
  readonly cpuData: Tensor.DataTypeMap[T];
  getData(): Promise<Tensor.DataTypeMap[T]>;
  reshape(dims: readonly number[]): Tensor<T>;
  /** Drops the data so that it can be collected; the tensor is unusable afterwards. */
  dispose(): void;
  static fromImage(image: ImageSource, options?: ImageOptions): Promise<Tensor<'float32' | 'float16' | 'uint8'>>;
}

export declare namespace InferenceSession {
  type ExecutionProvider = 'auto' | 'webgl' | 'wasm' | 'cpu' | { name: 'auto' | 'webgl' | 'wasm' | 'cpu' };
  interface SessionOptions {
    /**
     * Tried in order; default ['auto']. 'webgl' = GPU with per-node wasm fallback, 'wasm' = CPU only,
     * 'auto' = wasm where WebGL is a software rasterizer (SwiftShader, llvmpipe, ...) or missing, else
     * ['webgl', 'wasm']. Explicit providers are always honoured.
     */
    executionProviders?: readonly ExecutionProvider[];
    /** Called as the model downloads (URL sources only). total is 0 when the server sends no length. */
    onProgress?: (progress: { loaded: number; total: number; done?: boolean }) => void;
    [key: string]: unknown;
  }
  type FeedsType = { readonly [name: string]: Tensor };
  type FetchesType = readonly string[] | { readonly [name: string]: Tensor | null };
  type ReturnType = { readonly [name: string]: Tensor };
  interface RunOptions { [key: string]: unknown }
  interface ValueMetadata {
    name: string;
    isTensor: true;
    type: Tensor.Type | string;
    /** Fixed dims as numbers, symbolic ones as their names, unknown as null. */
    shape: ReadonlyArray<number | string | null>;
  }
  interface Timings {
    fetchMs: number; loadMs: number; optimizeMs: number; compileMs: number; createMs: number;
  }
  interface NodePlacement { node: string; op: string; gpu: boolean; kernel: string; reason: string }
}

export declare class InferenceSession {
  static create(urlOrBytes: string | URL | ArrayBuffer | Uint8Array,
                options?: InferenceSession.SessionOptions): Promise<InferenceSession>;
  static create(buffer: ArrayBuffer, byteOffset: number, byteLength?: number,
                options?: InferenceSession.SessionOptions): Promise<InferenceSession>;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly InferenceSession.ValueMetadata[];
  /** The provider the session runs on: the first of executionProviders that could start ('auto' resolved). */
  readonly executionProvider: 'webgl' | 'wasm' | 'cpu';
  /** Why: e.g. "WebGL renderer is 'ANGLE (..., SwiftShader ...)', a software rasterizer: wasm is faster". */
  readonly executionProviderReason: string;
  /** Threads of the wasm CPU kernels (env.wasm.numThreads at creation; 1 without cross-origin isolation). */
  readonly numThreads: number;
  readonly timings: InferenceSession.Timings;
  /** Engine time of the last run in milliseconds (without the copies in and out). */
  readonly lastRunMs?: number;
  readonly placements: readonly InferenceSession.NodePlacement[];
  readonly renderer: string;
  readonly gpuMemory: { liveTextures: number; pooledTextures: number; textureBytes: number; programs: number } | null;
  run(feeds: InferenceSession.FeedsType, options?: InferenceSession.RunOptions): Promise<InferenceSession.ReturnType>;
  run(feeds: InferenceSession.FeedsType, fetches: InferenceSession.FetchesType,
      options?: InferenceSession.RunOptions): Promise<InferenceSession.ReturnType>;
  startProfiling(): void;
  endProfiling(): void;
  release(): Promise<void>;
}

export declare const env: {
  wasm: {
    /**
     * URL prefix (ending in '/') or a map {'glint.wasm': url, 'glint-threaded.wasm': url,
     * 'glint-threaded.mjs': url, 'glint-threaded.worker.js': url}; default: beside index.mjs.
     */
    wasmPaths?: string | { [file: string]: string };
    /**
     * Threads of the wasm CPU kernels, read at session creation. Default min(4, hardwareConcurrency)
     * on a cross-origin-isolated page (COOP same-origin + COEP require-corp), else 1. Above 1 glint
     * loads its threaded build (glint-threaded.wasm, SharedArrayBuffer); 0 or undefined = default.
     */
    numThreads?: number;
    simd?: boolean;
  };
  webgl: Record<string, unknown>;
  logLevel: 'verbose' | 'info' | 'warning' | 'error' | 'fatal';
  readonly versions: { glint: string };
};

declare const _default: { InferenceSession: typeof InferenceSession; Tensor: typeof Tensor; env: typeof env };
export default _default;
