"""The Degradation Problem assignment's catalog (course/audit/catalog.py): realistic mistakes and
correct answers written differently, as text edits of the instructor solution's answer cells.
Data only: imports nothing of the course. Each entry: (name, graded function, [(old, new), ...],
why[, what the public test's message says]).

Left out as equivalent (no test can tell it from the solution): in stage_gradient_norms, matching
the stage by f"stage{k}" without the underscore (it differs only from n = 10 blocks on).
"""

CONV2 = ('    X = Conv2D(filters, 3, strides=1, padding="same", kernel_initializer="he_normal",\n'
         '               name=layer_name(name, "2_conv"))(X)\n')
BN2 = '    X = BatchNormalization(name=layer_name(name, "2_bn"))(X)\n'
PROJECTION = ('            X_shortcut = Conv2D(filters, 1, strides=stride, '
              'kernel_initializer="he_normal",\n'
              '                                name=layer_name(name, "0_conv"))(X_shortcut)\n')
SHORTCUT_BN = ('            X_shortcut = BatchNormalization(name=layer_name(name, "0_bn"))'
               '(X_shortcut)\n')
CONDITION = "        if stride != 1 or X_shortcut.shape[-1] != filters:\n"
ADD = '        X = Add(name=layer_name(name, "add"))([X, X_shortcut])\n'
OUT = '    X = Activation("relu", name=layer_name(name, "out"))(X)\n'
CALL = ('            X = basic_block(X, filters, stride, residual, '
        'name=f"stage{stage}_block{block}")\n')
STRIDE = "            stride = 2 if stage > 1 and block == 1 else 1\n"
NORM = "float(np.mean([np.linalg.norm(g.numpy()) for g in gradients[stage]]))"

# At least one mistake per graded function: the sample submissions (make demo).
SAMPLES = [
    ("wrong-block-relu-before-add", "basic_block",
     [(BN2, BN2 + '    X = Activation("relu")(X)\n')],
     "a ReLU at the end of the main path, before the addition",
     "the last ReLU comes after the addition"),
    ("wrong-network-stride-in-every-stage", "build_network",
     [(STRIDE, "            stride = 2 if block == 1 else 1\n")],
     "a stride of 2 at the start of stage 1 too",
     "block call 1 was basic_block"),
    ("wrong-gradients-inference-mode", "stage_gradient_norms",
     [("        predictions = model(X, training=True)\n", "        predictions = model(X)\n")],
     "the model called in inference mode (moving statistics, not the batch's)",
     "called the model in inference mode"),
]

MISTAKES = [
    # basic_block
    ("block-l2-regularizer", "basic_block",
     [(CONV2, CONV2.replace('kernel_initializer="he_normal",',
                            'kernel_initializer="he_normal",\n'
                            '               kernel_regularizer=keras.regularizers.L2(1e-4),'))],
     "an L2 penalty on the second convolution (the training loss changes, no output does)",
     "kernel_regularizer"),
    ("block-stride-on-both", "basic_block",
     [(CONV2, CONV2.replace("strides=1", "strides=stride"))],
     "the stride on both 3×3 convolutions", "returned shape"),
    ("block-projection-only-for-stride", "basic_block",
     [(CONDITION, "        if stride != 1:\n")],
     "no projection when only the width changes", "raised"),
    ("block-projection-always", "basic_block",
     [(CONDITION, "        if True:\n")],
     "a projection even where the shapes match", "so it is X itself"),
    ("block-shortcut-no-bn", "basic_block", [(SHORTCUT_BN, "")],
     "no BatchNormalization on the projection shortcut",
     "the shape changes, so it is a projection"),
    ("block-shortcut-without-stride", "basic_block",
     [(PROJECTION, PROJECTION.replace("strides=stride, ", ""))],
     "the projection without the stride", "raised"),
    ("block-plain-keeps-shortcut", "basic_block",
     [("    if residual:\n", "    if True:\n")],
     "the shortcut added whatever `residual` says", "must not add anything"),
    ("block-plain-no-last-relu", "basic_block",
     [(ADD + OUT, ADD + OUT.replace("    X", "        X", 1))],
     "the last ReLU only in residual blocks", "expected one ReLU"),
    ("block-momentum-0.9", "basic_block",
     [(BN2, BN2.replace("BatchNormalization(", "BatchNormalization(momentum=0.9, "))],
     "BatchNormalization with momentum 0.9", "keep Keras' defaults"),
    ("block-shortcut-3x3", "basic_block",
     [(PROJECTION, PROJECTION.replace("Conv2D(filters, 1, strides=stride,",
                                      'Conv2D(filters, 3, strides=stride, padding="same",'))],
     "a 3×3 projection instead of 1×1", "the shortcut's Conv2D"),
    ("block-default-initializer", "basic_block",
     [(CONV2, CONV2.replace(' kernel_initializer="he_normal",', ""))],
     "the second convolution keeps Keras' default initializer", "he_normal"),
    ("block-add-unnamed", "basic_block", [(ADD, "        X = Add()([X, X_shortcut])\n")],
     "the addition without its name", "expected 'b_add'"),
    ("block-relu-misnamed", "basic_block",
     [(OUT, OUT.replace('"out"', '"relu"'))], "the last ReLU named _relu", "b_out"),
    # build_network
    ("network-widths-from-32", "build_network",
     [("enumerate((16, 32, 64), start=1)", "enumerate((32, 64, 128), start=1)")],
     "widths 32, 64, 128", "filters=32"),
    ("network-residual-dropped", "build_network",
     [(CALL, CALL.replace("stride, residual, name", "stride, name"))],
     "residual not passed on: every block residual", "residual=True"),
    ("network-one-block-short", "build_network",
     [("        for block in range(1, n + 1):\n", "        for block in range(1, n):\n")],
     "n - 1 blocks per stage", "called basic_block"),
    ("network-blocks-from-zero", "build_network",
     [("        for block in range(1, n + 1):\n", "        for block in range(n):\n"),
      (STRIDE, "            stride = 2 if stage > 1 and block == 0 else 1\n")],
     "blocks numbered from 0 in the names", "name='stage1_block1'"),
    ("network-stem-stride-1", "build_network",
     [("Conv2D(16, 3, strides=2,", "Conv2D(16, 3, strides=1,")],
     "a stem without its stride", "the stem's Conv2D"),
    ("network-global-max-pool", "build_network",
     [('GlobalAveragePooling2D(name="avg_pool")',
       'keras.layers.GlobalMaxPooling2D(name="avg_pool")')],
     "global max pooling instead of average", "expected GlobalAveragePooling2D"),
    ("network-no-softmax", "build_network",
     [('Dense(classes, activation="softmax",', "Dense(classes,")],
     "the classifier outputs logits", "no softmax"),
    ("network-name-6n", "build_network",
     [('name=f"{kind}{6 * n + 2}"', 'name=f"{kind}{6 * n}"')],
     "the model named after 6n, not 6n+2", "expected 'residual14'"),
    ("network-stem-no-bn", "build_network",
     [('    X = BatchNormalization(name="stem_bn")(X)\n', "")],
     "no BatchNormalization in the stem", "stem_bn"),
    ("network-input-shape-fixed", "build_network",
     [("    X_input = Input(input_shape)\n", "    X_input = Input((64, 64, 3))\n")],
     "the input shape fixed at 64×64", "input shape"),
    ("network-classes-fixed", "build_network",
     [('Dense(classes, activation="softmax",', 'Dense(6, activation="softmax",')],
     "six classes whatever `classes` says", "output shape"),
    # stage_gradient_norms
    ("gradients-summed-loss", "stage_gradient_norms",
     [("keras.ops.mean(keras.losses", "keras.ops.sum(keras.losses")],
     "the loss summed over the batch", "summed the loss"),
    ("gradients-with-shortcuts", "stage_gradient_norms",
     [('layer.name.endswith(("_1_conv", "_2_conv"))', 'layer.name.endswith("_conv")')],
     "the projection shortcuts' convolutions included", "included the projection"),
    ("gradients-sum-over-layers", "stage_gradient_norms",
     [(NORM, NORM.replace("np.mean(", "np.sum("))],
     "the layers' norms summed", "summed the layers' norms"),
    ("gradients-squared-norm", "stage_gradient_norms",
     [(NORM, "float(np.mean([np.sum(g.numpy() ** 2) for g in gradients[stage]]))")],
     "the squared norm", "expected"),
    ("gradients-max-over-layers", "stage_gradient_norms",
     [(NORM, NORM.replace("np.mean(", "np.max("))],
     "the largest norm of the stage instead of the mean", "expected"),
    ("gradients-with-biases", "stage_gradient_norms",
     [("    kernels = {stage: [layer.kernel for layer in model.layers\n",
       "    kernels = {stage: [weight for layer in model.layers for weight in layer.weights\n")],
     "the biases' gradients counted as layers too", "expected"),
    ("gradients-numpy-floats", "stage_gradient_norms",
     [(NORM, "np.mean([np.linalg.norm(g.numpy()) for g in gradients[stage]])")],
     "NumPy floats returned (float32 values, not Python floats)", "Python floats"),
    ("gradients-stages-from-zero", "stage_gradient_norms",
     [("    return {f\"stage{stage}\":", "    return {f\"stage{stage - 1}\":")],
     "the keys numbered from 0", "exactly the keys"),
    ("gradients-norm-of-the-stage", "stage_gradient_norms",
     [(NORM, "float(np.sqrt(sum(np.sum(g.numpy() ** 2) for g in gradients[stage])))")],
     "the norm of all the stage's kernels together, not the mean per layer", "expected"),
    ("gradients-mean-absolute", "stage_gradient_norms",
     [(NORM, "float(np.mean([np.mean(np.abs(g.numpy())) for g in gradients[stage]]))")],
     "the mean absolute gradient instead of the L2 norm", "expected"),
]

VARIANTS = [
    ("variant-block-relu-layers-functional-add", "basic_block",
     [(ADD, '        X = keras.layers.add([X_shortcut, X], name=layer_name(name, "add"))\n'),
      (OUT, '    X = keras.layers.ReLU(name=layer_name(name, "out"))(X)\n')],
     "keras.layers.add with the inputs swapped, a ReLU layer"),
    ("variant-block-no-bias-tuples", "basic_block",
     [(CONV2, '    X = Conv2D(filters, (3, 3), strides=(1, 1), padding="same", use_bias=False,\n'
              '               kernel_initializer=keras.initializers.HeNormal(),\n'
              '               name=layer_name(name, "2_conv"))(X)\n'),
      (CONDITION, "        if stride > 1 or X_shortcut.shape[3] != filters:\n")],
     "tuples, no bias before BatchNorm, an initializer object, another condition"),
    ("variant-block-shortcut-first", "basic_block",
     [("    X_shortcut = X\n",
       "    X_shortcut = X\n"
       "    if residual and (stride != 1 or X.shape[-1] != filters):\n"
       '        X_shortcut = Conv2D(filters, 1, strides=stride, kernel_initializer="he_normal",\n'
       '                            name=layer_name(name, "0_conv"))(X)\n'
       '        X_shortcut = BatchNormalization(name=layer_name(name, "0_bn"))(X_shortcut)\n'),
      (CONDITION + PROJECTION + SHORTCUT_BN, "")],
     "the projection built first"),
    ("variant-network-plan-list", "build_network",
     [("    for stage, filters in enumerate((16, 32, 64), start=1):\n"
       "        for block in range(1, n + 1):\n" + STRIDE + CALL,
       "    plan = [(stage, block, filters, 2 if block == 1 and stage != 1 else 1)\n"
       "            for stage, filters in ((1, 16), (2, 32), (3, 64)) "
       "for block in range(1, n + 1)]\n"
       "    for stage, block, filters, stride in plan:\n"
       "        X = basic_block(X, filters=filters, stride=stride, residual=residual,\n"
       '                        name="stage%d_block%d" % (stage, block))\n')],
     "a list of the blocks first, keyword arguments, %-formatted names"),
    ("variant-network-partial", "build_network",
     [("    X_input = Input(input_shape)\n",
       "    import functools\n\n    block = functools.partial(basic_block, residual=residual)\n"
       "    X_input = Input(input_shape)\n"),
      (CALL, '            X = block(X, filters, stride, '
             'name=f"stage{stage}_block{block_number}")\n'),
      ("        for block in range(1, n + 1):\n", "        for block_number in range(1, n + 1):\n"),
      (STRIDE, "            stride = 2 if stage > 1 and block_number == 1 else 1\n")],
     "the block bound with functools.partial inside the function"),
    ("variant-network-keras-model-while", "build_network",
     [('    kind = "residual" if residual else "plain"\n'
       '    return Model(inputs=X_input, outputs=X, name=f"{kind}{6 * n + 2}")',
       '    depth = 6 * n + 2\n'
       '    return keras.Model(X_input, X, '
       'name=("residual" if residual else "plain") + str(depth))')],
     "keras.Model with positional arguments, the name by concatenation"),
    ("variant-gradients-flat-list", "stage_gradient_norms",
     [("    gradients = tape.gradient(loss, kernels)\n"
       "    return {f\"stage{stage}\": " + NORM + "\n"
       "            for stage in (1, 2, 3)}",
       "    flat = [(stage, kernel) for stage in (1, 2, 3) for kernel in kernels[stage]]\n"
       "    grads = tape.gradient(loss, [kernel for _, kernel in flat])\n"
       "    result = {}\n"
       "    for stage in (1, 2, 3):\n"
       "        norms = [float(tf.norm(g)) for (s, _), g in zip(flat, grads) if s == stage]\n"
       "        result[f\"stage{stage}\"] = sum(norms) / len(norms)\n"
       "    return result")],
     "one flat list of kernels, tf.norm, the mean by hand"),
    ("variant-gradients-tf-loss", "stage_gradient_norms",
     [("        loss = keras.ops.mean(keras.losses.categorical_crossentropy(Y, predictions))\n",
       "        loss = keras.losses.CategoricalCrossentropy()(Y, predictions)\n")],
     "a CategoricalCrossentropy loss object (its default reduction averages)"),
    ("variant-gradients-by-weight-path", "stage_gradient_norms",
     [("    kernels = {stage: [layer.kernel for layer in model.layers\n"
       "                       if layer.name.startswith(f\"stage{stage}_\")\n"
       "                       and layer.name.endswith((\"_1_conv\", \"_2_conv\"))]\n"
       "               for stage in (1, 2, 3)}\n",
       "    kernels = {stage: [w for w in model.trainable_weights\n"
       "                       if w.path.startswith(f\"stage{stage}_\") "
       "and w.path.endswith(\"/kernel\")\n"
       "                       and w.path.split(\"/\")[0][-7:] in (\"_1_conv\", \"_2_conv\")]\n"
       "               for stage in (1, 2, 3)}\n")],
     "the kernels found by their paths among the trainable weights"),
]
